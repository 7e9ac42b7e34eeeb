-- Conservation of cost, defined once: per charge_date and billing pool, the
-- billed cost landed beside the billed cost in fct_ai_cost. Read by the dbt test
-- assert_fct_ai_cost_conserves_landing_billed_cost (every row to the cent) and
-- by the marts gate (expectations/marts_data.py, per day), so a billing source
-- added here is conserved by both.
-- Landing pools are rebuilt here from staging, independently of the allocation
-- models: an OpenAI project (Anthropic workspace) x day x model of cost buckets,
-- a GPU node-day of FOCUS lines (the lines int_gpu_node_billing_lines matches to
-- a node by name, kube_node_info or the inventory seed; Tax and Credit
-- excluded), or any other single FOCUS line (comparison 'pool'). A second
-- comparison ('landed_day_total') sets each charge day's total beside the raw
-- landed sources (every billing dataset: OpenAI and Anthropic cost reports,
-- FOCUS), so a row staging lost cannot hide. The fact is incremental, so this also catches a restatement
-- that landed before the run's lookback window.
with

openai_costs as (

    select * from {{ ref('stg_openai__costs') }}

),

anthropic_costs as (

    select * from {{ ref('stg_anthropic__costs') }}

),

focus_lines as (

    select * from {{ ref('stg_focus__cost_and_usage') }}

),

fact as (

    select * from {{ ref('fct_ai_cost') }}

),

gpu_node_lines as (

    select * from {{ ref('int_gpu_node_billing_lines') }}

),

raw_landed as (

    select
        cast(timezone('UTC', bucket_start_at) as date) as charge_date,
        cast(amount as decimal(38, 12)) as billed_cost
    from {{ source('openai', 'costs') }}
    union all
    select
        cast(timezone('UTC', bucket_start_at) as date) as charge_date,
        cast(amount as decimal(38, 12)) as billed_cost
    from {{ source('anthropic', 'costs') }}
    union all
    select
        cast(timezone('UTC', charge_period_start) as date) as charge_date,
        cast(billed_cost as decimal(38, 12)) as billed_cost
    from {{ source('focus', 'cost_and_usage') }}

),

landed as (

    select
        charge_date,
        {{ llm_pool_id("'openai_costs'", 'project_id', 'charge_date', 'model_id') }}
            as billing_pool_id,
        amount as billed_cost
    from openai_costs

    union all

    select
        charge_date,
        {{ llm_pool_id("'anthropic_costs'", 'workspace_id', 'charge_date', 'model_id') }}
            as billing_pool_id,
        amount as billed_cost
    from anthropic_costs

    union all

    select
        focus_lines.charge_date,
        case
            when gpu_node_lines.hostname is not null
                then {{ gpu_node_pool_id('gpu_node_lines.hostname', 'focus_lines.charge_date') }}
            else {{ focus_line_pool_id('focus_lines.focus_line_id', 'focus_lines.charge_date') }}
        end as billing_pool_id,
        focus_lines.billed_cost
    from focus_lines
    left join gpu_node_lines
        on focus_lines.focus_line_id = gpu_node_lines.focus_line_id

),

landed_pools as (

    select
        charge_date,
        billing_pool_id,
        sum(billed_cost) as landed_billed_cost
    from landed
    group by charge_date, billing_pool_id

),

fact_pools as (

    select
        charge_date,
        billing_pool_id,
        sum(billed_cost) as fact_billed_cost
    from fact
    group by charge_date, billing_pool_id

),

compared as (

    select
        coalesce(landed_pools.charge_date, fact_pools.charge_date) as charge_date,
        coalesce(landed_pools.billing_pool_id, fact_pools.billing_pool_id) as billing_pool_id,
        coalesce(landed_pools.landed_billed_cost, 0) as landed_billed_cost,
        coalesce(fact_pools.fact_billed_cost, 0) as fact_billed_cost
    from landed_pools
    full outer join fact_pools
        on
            landed_pools.charge_date = fact_pools.charge_date
            and landed_pools.billing_pool_id = fact_pools.billing_pool_id

),

raw_days as (

    select
        charge_date,
        'day_total' as billing_pool_id,
        sum(billed_cost) as landed_billed_cost
    from raw_landed
    group by charge_date

),

fact_days as (

    select
        charge_date,
        sum(billed_cost) as fact_billed_cost
    from fact
    group by charge_date

),

compared_days as (

    select
        coalesce(raw_days.charge_date, fact_days.charge_date) as charge_date,
        'day_total' as billing_pool_id,
        coalesce(raw_days.landed_billed_cost, 0) as landed_billed_cost,
        coalesce(fact_days.fact_billed_cost, 0) as fact_billed_cost
    from raw_days
    full outer join fact_days
        on raw_days.charge_date = fact_days.charge_date

),

final as (

    select
        charge_date,
        'pool' as comparison,
        billing_pool_id,
        landed_billed_cost,
        fact_billed_cost
    from compared
    union all
    select
        charge_date,
        'landed_day_total' as comparison,
        billing_pool_id,
        landed_billed_cost,
        fact_billed_cost
    from compared_days

)

select * from final
