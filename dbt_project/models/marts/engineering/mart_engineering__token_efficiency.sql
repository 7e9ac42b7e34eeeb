-- The ML engineer's view: how efficiently each team, feature, model and
-- environment turns tokens and GPU hours into work, per day. Only token and
-- GPU cost belongs here (cloud infra is finance's). GPU rows have no model:
-- their model_id is 'gpu:<sku>' so the grain stays non-null.
with

fact as (

    select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}
    where cost_type in ('tokens', 'gpu')

),

aggregated as (

    select
        charge_date,
        team,
        coalesce(feature, 'unallocated') as feature,
        {{ efficiency_model_id('model_id', 'sku_id') }} as model_id,
        coalesce(environment, 'unspecified') as environment,
        max(reporting_currency) as reporting_currency,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens,
        sum(effective_cost_reporting) as effective_cost,
        sum(case when cost_type = 'tokens' then effective_cost_reporting else 0 end) as token_cost,
        sum(case when is_idle_cost then effective_cost_reporting else 0 end) as idle_cost,
        sum(estimated_cost) as estimated_cost,
        {{ exact_sum('gpu_hours_allocated') }} as gpu_hours_allocated,
        {{ exact_sum('gpu_hours_busy') }} as gpu_hours_busy,
        {{ exact_sum('gpu_hours_idle') }} as gpu_hours_idle
    from fact
    group by 1, 2, 3, 4, 5

),

final as (

    select
        -- ids
        cast(
            {{ surrogate_key(['charge_date', 'team', 'feature', 'model_id', 'environment']) }} as varchar
        ) as token_efficiency_id,
        cast(team as varchar) as team,
        cast(feature as varchar) as feature,
        cast(model_id as varchar) as model_id,

        -- strings
        cast(environment as varchar) as environment,
        cast(reporting_currency as varchar) as reporting_currency,

        -- numerics
        cast(requests as bigint) as requests,
        cast(input_tokens as bigint) as input_tokens,
        cast(cached_input_tokens as bigint) as cached_input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(effective_cost as decimal(38, 12)) as effective_cost,
        cast(idle_cost as decimal(38, 12)) as idle_cost,
        cast(estimated_cost as decimal(38, 12)) as estimated_cost,
        cast(gpu_hours_allocated as double) as gpu_hours_allocated,
        cast(gpu_hours_busy as double) as gpu_hours_busy,
        cast(gpu_hours_idle as double) as gpu_hours_idle,
        {{ safe_divide('input_tokens + output_tokens', 'requests') }} as tokens_per_request,
        {{ metric_cache_hit_rate('cached_input_tokens', 'input_tokens') }} as cache_hit_rate,
        {{ safe_divide('output_tokens', 'input_tokens') }} as output_input_ratio,
        {{ metric_cost_per_1k_tokens('token_cost', 'input_tokens + output_tokens') }} as cost_per_1k_tokens,
        {{ metric_cost_per_request('token_cost', 'requests') }} as cost_per_request,
        {{ metric_gpu_utilisation('gpu_hours_busy', 'gpu_hours_busy + gpu_hours_idle') }} as gpu_utilisation,
        -- Not a semantic metric: how hard the GPUs a pod held worked, whoever pays the idle.
        {{ safe_divide('gpu_hours_busy', 'gpu_hours_allocated') }} as gpu_busy_share_of_allocated,

        -- dates
        cast(charge_date as date) as charge_date

    from aggregated

)

select * from final
