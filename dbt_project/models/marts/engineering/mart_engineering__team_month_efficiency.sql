-- The engineer's month at a glance, per team and for the whole organisation
-- (team 'all'): token and GPU efficiency month to date, over final days only.
-- The dashboard reads it; each ratio calls its metric's macro over the
-- month's summed measures, so it is the semantic layer's number at this grain.
with

fact as (

    select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}
    where cost_type in ('tokens', 'gpu')

),

-- Every row once for its team and once for the organisation.
scoped as (

    select
        *,
        team as scope
    from fact
    union all
    select
        *,
        'all' as scope
    from fact

),

summed as (

    select
        cast(date_trunc('month', charge_date) as date) as month_start,
        scope as team,
        max(reporting_currency) as reporting_currency,
        count(distinct charge_date) as final_days,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens,
        sum(effective_cost_reporting) as effective_cost,
        sum(case when cost_type = 'tokens' then effective_cost_reporting else 0 end) as token_cost,
        sum(case when is_idle_cost then effective_cost_reporting else 0 end) as idle_cost,
        {{ exact_sum('gpu_hours_busy') }} as gpu_hours_busy,
        {{ exact_sum('gpu_hours_idle') }} as gpu_hours_idle
    from scoped
    group by 1, 2

),

final as (

    select
        -- ids
        cast({{ surrogate_key(['month_start', 'team']) }} as varchar) as team_month_efficiency_id,
        cast(team as varchar) as team,

        -- strings
        cast(reporting_currency as varchar) as reporting_currency,

        -- numerics
        cast(final_days as integer) as final_days,
        cast(requests as bigint) as requests,
        cast(input_tokens as bigint) as input_tokens,
        cast(cached_input_tokens as bigint) as cached_input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(effective_cost as decimal(38, 12)) as effective_cost,
        cast(token_cost as decimal(38, 12)) as token_cost,
        cast(idle_cost as decimal(38, 12)) as idle_cost,
        cast(gpu_hours_busy as double) as gpu_hours_busy,
        cast(gpu_hours_idle as double) as gpu_hours_idle,
        {{ metric_cost_per_1k_tokens('token_cost', 'input_tokens + output_tokens') }} as cost_per_1k_tokens,
        {{ metric_cost_per_request('token_cost', 'requests') }} as cost_per_request,
        {{ metric_cache_hit_rate('cached_input_tokens', 'input_tokens') }} as cache_hit_rate,
        {{ metric_gpu_utilisation('gpu_hours_busy', 'gpu_hours_busy + gpu_hours_idle') }} as gpu_utilisation,

        -- dates
        month_start

    from summed

)

select * from final
