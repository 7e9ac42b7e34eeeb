-- Conservation of cost: for every charge_date and billing pool, the billed
-- cost in fct_ai_cost equals the billed cost landed, to the cent. Landing
-- pools are rebuilt here from staging, independently of the allocation models:
-- an OpenAI project (Anthropic workspace) x day x model of cost buckets, a GPU node-day of
-- FOCUS lines (resource_name is a DCGM Hostname; Tax and Credit excluded),
-- or any other single FOCUS line. Returns the pools that disagree.
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

gpu_samples as (

    select * from {{ ref('stg_dcgm__gpu_samples') }}

),

fact as (

    select * from {{ ref('fct_ai_cost') }}

),

gpu_hosts as (

    select distinct hostname
    from gpu_samples
    where metric_name = 'DCGM_FI_DEV_GPU_UTIL'

),

landed as (

    select
        charge_date,
        'openai_costs:' || project_id || ':' || cast(charge_date as varchar)
        || ':' || coalesce(model_id, 'no_model') as billing_pool_id,
        amount as billed_cost
    from openai_costs

    union all

    select
        charge_date,
        'anthropic_costs:' || workspace_id || ':' || cast(charge_date as varchar)
        || ':' || coalesce(model_id, 'no_model') as billing_pool_id,
        amount as billed_cost
    from anthropic_costs

    union all

    select
        focus_lines.charge_date,
        case
            when gpu_hosts.hostname is not null and focus_lines.charge_category not in ('Tax', 'Credit')
                then 'focus:gpu:' || focus_lines.resource_name || ':' || cast(focus_lines.charge_date as varchar)
            else 'focus:line:' || focus_lines.focus_line_id || ':' || cast(focus_lines.charge_date as varchar)
        end as billing_pool_id,
        focus_lines.billed_cost
    from focus_lines
    left join gpu_hosts
        on focus_lines.resource_name = gpu_hosts.hostname

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

)

select *
from compared
where abs(landed_billed_cost - fact_billed_cost) >= 0.005
