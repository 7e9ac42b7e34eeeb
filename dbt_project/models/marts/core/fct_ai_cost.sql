-- The one cost fact. Money comes only from billing pools (OpenAI and
-- Anthropic cost buckets, FOCUS lines); usage only decides who a pool belongs to. Rows with
-- cost_basis 'estimated' (usage no billing pool covers) carry billed, effective
-- and list cost 0 and their price-book amount in estimated_cost, so summing
-- billed_cost or effective_cost never counts an estimate as money.
--
-- Incremental by charge_date: a run rebuilds only the charge days of its
-- window [start_date - lookback_days, end_date) (vars from the orchestrator,
-- lookback_days default 3, macro fact_window). The pre_hook deletes those days
-- inside the build's transaction and the run appends them afresh, so a day a
-- provider restated is replaced, never doubled, and a day that lost all its
-- rows disappears. Days before the window stay as they were. Without
-- start_date, an incremental run rebuilds every landed day; so does the first
-- run after a column was added to the fact (macro migrate_fact_schema), so no
-- older row keeps a null in it.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=[
        before_begin("{{ migrate_fact_schema() }}"),
        "{{ delete_fact_window() }}",
    ],
) }}
with

llm as (

    select * from {{ ref('int_llm_cost_allocated') }}

),

gpu as (

    select * from {{ ref('int_gpu_cost_allocated') }}

),

cloud as (

    select * from {{ ref('int_cloud_cost_attributed') }}

),

teams as (

    select * from {{ ref('teams') }}

),

provider_names as (

    select * from {{ ref('provider_names') }}

),

price_book_families as (

    select
        model_id,
        min(model_family) as model_family
    from {{ ref('price_book') }}
    group by 1

),

fx as (

    select * from {{ ref('int_fx_rates_ranged') }}

),

llm_named as (

    select
        llm.*,
        coalesce(provider_names.provider_name, llm.provider) as display_provider_name,
        coalesce(provider_names.service_name, llm.provider || ' API') as display_service_name
    from llm
    left join provider_names
        on llm.provider = provider_names.provider

),

llm_rows as (

    select
        charge_date,
        cast(date_trunc('month', charge_date) as date) as billing_period_start,
        billing_pool_id,
        source_system,
        display_provider_name as provider_name,
        display_service_name as service_name,
        'AI and Machine Learning' as service_category,
        model_id as sku_id,
        cast(null as varchar) as resource_id,
        cast(null as varchar) as region_id,
        cast(null as varchar) as billing_account_id,
        sub_account_id,
        team,
        feature,
        project,
        environment,
        allocation_method,
        false as is_shared_cost,
        false as is_idle_cost,
        model_id,
        model_family,
        workload_type,
        'tokens' as cost_type,
        cost_basis,
        price_version,
        -- Token use is usage, charged per use, whether billed or estimated.
        'Usage' as charge_category,
        cast(null as varchar) as charge_class,
        'Usage-Based' as charge_frequency,
        billing_currency,
        'tokens' as consumed_unit,
        billed_cost,
        effective_cost,
        list_cost,
        estimated_cost,
        input_tokens,
        cached_input_tokens,
        output_tokens,
        requests,
        0.0 as gpu_hours_allocated,
        0.0 as gpu_hours_busy,
        0.0 as gpu_hours_idle,
        cast(input_tokens + output_tokens as double) as consumed_quantity
    from llm_named

),

{%- set focus_columns = [
    'charge_date', 'billing_period_start', 'billing_pool_id', 'source_name', 'provider_name',
    'service_name', 'service_category', 'sku_id', 'resource_id', 'region_id', 'billing_account_id',
    'sub_account_id', 'team', 'feature', 'project', 'environment', 'allocation_method',
    'is_shared_cost', 'is_idle_cost', 'cost_type', 'charge_category', 'charge_class',
    'charge_frequency', 'billing_currency', 'consumed_unit', 'billed_cost', 'effective_cost',
    'list_cost', 'consumed_quantity',
] %}

focus_allocated as (

    -- GPU node-day pools and single cloud lines: both FOCUS money, one shape.
    select
        {{ focus_columns | join(',\n        ') }},
        case
            when environment in ('research', 'experiment') then 'training'
            else 'inference'
        end as workload_type,
        gpu_hours_allocated,
        gpu_hours_busy,
        gpu_hours_idle,
        cast(null as varchar) as token_model_id,
        cast(null as varchar) as token_model_family,
        cast(null as varchar) as token_class
    from gpu

    union all

    select
        {{ focus_columns | join(',\n        ') }},
        -- a per-token line on a cloud bill is a foundation-model API call
        case when cost_type = 'tokens' then 'inference' end as workload_type,
        0.0 as gpu_hours_allocated,
        0.0 as gpu_hours_busy,
        0.0 as gpu_hours_idle,
        token_model_id,
        token_model_family,
        token_class
    from cloud

),

focus_rows as (

    select
        focus_allocated.charge_date,
        focus_allocated.billing_period_start,
        focus_allocated.billing_pool_id,
        'focus:' || focus_allocated.source_name as source_system,
        focus_allocated.provider_name,
        focus_allocated.service_name,
        focus_allocated.service_category,
        focus_allocated.sku_id,
        focus_allocated.resource_id,
        focus_allocated.region_id,
        focus_allocated.billing_account_id,
        focus_allocated.sub_account_id,
        focus_allocated.team,
        focus_allocated.feature,
        focus_allocated.project,
        focus_allocated.environment,
        focus_allocated.allocation_method,
        focus_allocated.is_shared_cost,
        focus_allocated.is_idle_cost,
        -- token lines (int_cloud_cost_attributed): the bill's model, its family from the price
        -- book where it knows the model, else as the bill names it
        case
            when focus_allocated.cost_type = 'tokens'
                then coalesce(focus_allocated.token_model_id, focus_allocated.sku_id)
        end as model_id,
        coalesce(
            price_book_families.model_family, focus_allocated.token_model_family
        ) as model_family,
        focus_allocated.workload_type,
        focus_allocated.cost_type,
        'billed' as cost_basis,
        cast(null as varchar) as price_version,
        focus_allocated.charge_category,
        focus_allocated.charge_class,
        -- ChargeFrequency is mandatory in FOCUS; a line that names none is
        -- usage-based when it is usage, else a one-time charge.
        coalesce(
            focus_allocated.charge_frequency,
            case
                when focus_allocated.charge_category = 'Usage' then 'Usage-Based'
                else 'One-Time'
            end
        ) as charge_frequency,
        focus_allocated.billing_currency,
        focus_allocated.consumed_unit,
        focus_allocated.billed_cost,
        focus_allocated.effective_cost,
        focus_allocated.list_cost,
        cast(null as decimal(38, 12)) as estimated_cost,
        -- input tokens include cached ones, as in the provider API rows
        cast(case
            when focus_allocated.token_class in ('input', 'cached_input', 'cache_write_input')
                then round(focus_allocated.consumed_quantity)
            else 0
        end as bigint) as input_tokens,
        cast(case
            when focus_allocated.token_class = 'cached_input'
                then round(focus_allocated.consumed_quantity)
            else 0
        end as bigint) as cached_input_tokens,
        cast(case
            when focus_allocated.token_class = 'output'
                then round(focus_allocated.consumed_quantity)
            else 0
        end as bigint) as output_tokens,
        cast(0 as bigint) as requests,
        focus_allocated.gpu_hours_allocated,
        focus_allocated.gpu_hours_busy,
        focus_allocated.gpu_hours_idle,
        focus_allocated.consumed_quantity
    from focus_allocated
    left join price_book_families
        on focus_allocated.token_model_id = price_book_families.model_id

),

unioned as (

    select * from llm_rows
    union all
    select * from focus_rows

),

windowed as (

    select * from unioned
    {%- if is_incremental() %}
    where {{ fact_window_filter('charge_date') }}
    {%- endif %}

),

{%- set grain = [
    'charge_date', 'billing_period_start', 'billing_pool_id', 'source_system',
    'provider_name', 'service_name', 'service_category', 'sku_id', 'resource_id',
    'region_id', 'billing_account_id', 'sub_account_id', 'team', 'feature', 'project',
    'environment', 'allocation_method', 'is_shared_cost', 'is_idle_cost', 'model_id',
    'model_family', 'workload_type', 'cost_type', 'cost_basis', 'price_version',
    'billing_currency', 'consumed_unit',
] %}
{#- The FOCUS charge attributes follow from the billing pool (one FOCUS line,
    or a usage pool), so they are grouped by but kept out of ai_cost_id: the
    key of a row stays what it was before the fact carried them. -#}
{%- set pool_attributes = ['charge_category', 'charge_class', 'charge_frequency'] %}

aggregated as (

    select
        {{ (grain + pool_attributes) | join(',\n        ') }},
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(list_cost) as list_cost,
        {{ exact_sum('estimated_cost') }} as estimated_cost,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens,
        sum(requests) as requests,
        {{ exact_sum('gpu_hours_allocated') }} as gpu_hours_allocated,
        {{ exact_sum('gpu_hours_busy') }} as gpu_hours_busy,
        {{ exact_sum('gpu_hours_idle') }} as gpu_hours_idle,
        {{ exact_sum('consumed_quantity') }} as consumed_quantity
    from windowed
    group by {{ (grain + pool_attributes) | join(', ') }}

),

converted as (

    select
        aggregated.*,
        teams.cost_center,
        '{{ var("reporting_currency") }}' as reporting_currency,
        {{ rate_to_reporting('aggregated.billing_currency') }} as fx_rate
    from aggregated
    left join teams
        on aggregated.team = teams.team
    {{ join_rate_to_reporting('aggregated.billing_currency', 'aggregated.charge_date') }}

),

final as (

    select
        -- ids
        {{ surrogate_key(grain) }} as ai_cost_id,
        billing_pool_id,
        sku_id,
        resource_id,
        region_id,
        billing_account_id,
        sub_account_id,
        model_id,

        -- strings
        source_system,
        provider_name,
        service_name,
        service_category,
        team,
        cost_center,
        feature,
        project,
        environment,
        allocation_method,
        model_family,
        workload_type,
        cost_type,
        cost_basis,
        price_version,
        charge_category,
        charge_class,
        charge_frequency,
        billing_currency,
        reporting_currency,
        consumed_unit,

        -- numerics
        cast(billed_cost as decimal(38, 12)) as billed_cost,
        cast(effective_cost as decimal(38, 12)) as effective_cost,
        cast(list_cost as decimal(38, 12)) as list_cost,
        cast(estimated_cost as decimal(38, 12)) as estimated_cost,
        cast(billed_cost * fx_rate as decimal(38, 12)) as billed_cost_reporting,
        cast(effective_cost * fx_rate as decimal(38, 12)) as effective_cost_reporting,
        cast(input_tokens as bigint) as input_tokens,
        cast(cached_input_tokens as bigint) as cached_input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(requests as bigint) as requests,
        cast(gpu_hours_allocated as double) as gpu_hours_allocated,
        cast(gpu_hours_busy as double) as gpu_hours_busy,
        cast(gpu_hours_idle as double) as gpu_hours_idle,
        cast(consumed_quantity as double) as consumed_quantity,

        -- booleans
        is_shared_cost,
        is_idle_cost,

        -- dates
        charge_date,
        billing_period_start

    from converted

)

select * from final
