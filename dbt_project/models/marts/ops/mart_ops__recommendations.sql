-- One row per recommendation that saves money, judged on the trailing window
-- of final days (int_recommendation_window_days). Every threshold comes from
-- recommendation_rules; every saving from the fact and the price book, scaled
-- from the window's days to a 30-day month.
with

fact as (

    select * from {{ ref('fct_ai_cost') }}

),

window_days as (

    select * from {{ ref('int_recommendation_window_days') }}

),

token_usage as (

    select * from {{ ref('int_token_usage_window_priced') }}

),

recommendation_rules as (

    select * from {{ ref('recommendation_rules') }}

),

thresholds as (

    select
        max(case when parameter = 'min_monthly_saving' then cast(value as decimal(18, 2)) end)
            as min_monthly_saving,
        max(case when parameter = 'high_confidence_min_days' then cast(value as integer) end)
            as high_confidence_min_days,
        max(case when parameter = 'medium_confidence_min_days' then cast(value as integer) end)
            as medium_confidence_min_days,
        max(case when parameter = 'min_idle_share' then cast(value as double) end)
            as min_idle_share,
        max(case when parameter = 'min_avg_input_tokens' then cast(value as double) end)
            as min_avg_input_tokens,
        max(case when parameter = 'min_hit_rate_gap' then cast(value as double) end)
            as min_hit_rate_gap,
        max(case when parameter = 'max_avg_output_tokens' then cast(value as double) end)
            as max_avg_output_tokens
    from recommendation_rules

),

batch_environments as (

    select recommendation_rules.value as environment
    from recommendation_rules
    where recommendation_rules.parameter = 'batch_environment'

),

window_bounds as (

    select distinct
        window_start,
        window_end,
        window_days,
        30.0 / window_days as month_scale
    from window_days

),

gpu_subjects as (

    select
        fact.resource_id,
        fact.team,
        fact.feature,
        fact.reporting_currency,
        sum(fact.effective_cost_reporting) as window_cost,
        sum(case when fact.is_idle_cost then fact.effective_cost_reporting else 0 end)
            as window_saving,
        -- GPU hours are doubles: summed exactly, so a rerun on more threads publishes the same bits.
        cast({{ exact_sum('coalesce(fact.gpu_hours_idle, 0)') }} as double) as idle_gpu_hours,
        cast({{ exact_sum('coalesce(fact.gpu_hours_busy, 0)') }} as double) as busy_gpu_hours,
        count(distinct case when fact.gpu_hours_idle > 0 then fact.charge_date end)
            as evidence_days
    from fact
    inner join window_days on fact.charge_date = window_days.charge_date
    where fact.cost_type = 'gpu' and fact.resource_id is not null
    group by all

),

idle_gpu as (

    -- Idle hours are paid and unused: the idle cost is what releasing or
    -- right-sizing them saves.
    select
        'idle_gpu' as kind,
        gpu_subjects.team,
        gpu_subjects.feature,
        cast(null as varchar) as environment,
        cast(null as varchar) as model_id,
        cast(null as varchar) as smaller_model_id,
        gpu_subjects.resource_id,
        gpu_subjects.reporting_currency,
        gpu_subjects.window_cost,
        gpu_subjects.window_saving,
        gpu_subjects.idle_gpu_hours,
        gpu_subjects.busy_gpu_hours,
        gpu_subjects.idle_gpu_hours
        / (gpu_subjects.idle_gpu_hours + gpu_subjects.busy_gpu_hours) as idle_share,
        cast(null as bigint) as requests,
        cast(null as bigint) as input_tokens,
        cast(null as bigint) as cached_input_tokens,
        cast(null as bigint) as output_tokens,
        cast(null as double) as cache_hit_rate,
        cast(null as double) as target_cache_hit_rate,
        gpu_subjects.evidence_days
    from gpu_subjects
    cross join thresholds
    where
        gpu_subjects.idle_gpu_hours > 0
        and gpu_subjects.idle_gpu_hours
        >= thresholds.min_idle_share * (gpu_subjects.idle_gpu_hours + gpu_subjects.busy_gpu_hours)

),

token_subjects as (

    select
        team,
        feature,
        environment,
        model_id,
        smaller_model_id,
        reporting_currency,
        sum(cost_reporting) as window_cost,
        sum(requests) as requests,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens,
        sum(cached_input_tokens) / nullif(sum(input_tokens), 0) as cache_hit_rate,
        sum(input_tokens) / nullif(sum(requests), 0) as avg_input_tokens_per_request,
        sum(output_tokens) / nullif(sum(requests), 0) as avg_output_tokens_per_request,
        sum(cost_reporting - cost_on_smaller_model_reporting) as smaller_model_window_saving,
        count(distinct charge_date) as evidence_days
    from token_usage
    group by all

),

best_hit_rates as (

    select
        model_id,
        max(cache_hit_rate) as best_cache_hit_rate
    from token_subjects
    group by model_id

),

cache_candidates as (

    -- Workloads without a request count (the Anthropic usage report has none)
    -- cannot show their prompt size, so they are never judged here.
    select
        token_subjects.*,
        best_hit_rates.best_cache_hit_rate as target_cache_hit_rate
    from token_subjects
    inner join best_hit_rates on token_subjects.model_id = best_hit_rates.model_id
    cross join thresholds
    where
        token_subjects.avg_input_tokens_per_request >= thresholds.min_avg_input_tokens
        and best_hit_rates.best_cache_hit_rate - token_subjects.cache_hit_rate
        >= thresholds.min_hit_rate_gap

),

cache_savings as (

    -- The extra cached tokens at the target rate move from the input price
    -- to the cached input price, day by day on the day's price.
    select
        token_usage.team,
        token_usage.feature,
        token_usage.environment,
        token_usage.model_id,
        -- The target rate is a double: summed exactly, the same bits on any thread count.
        {{ exact_sum(
            '(cache_candidates.target_cache_hit_rate * token_usage.input_tokens'
            ~ ' - token_usage.cached_input_tokens)'
            ~ ' * (token_usage.input_price_per_1m - token_usage.cached_input_price_per_1m)'
            ~ ' * token_usage.tier_price_factor / 1000000'
        ) }} as window_saving
    from token_usage
    inner join cache_candidates
        on
            token_usage.team = cache_candidates.team
            and token_usage.feature is not distinct from cache_candidates.feature
            and token_usage.environment is not distinct from cache_candidates.environment
            and token_usage.model_id = cache_candidates.model_id
    group by all

),

low_cache_hit as (

    select
        'low_cache_hit' as kind,
        cache_candidates.team,
        cache_candidates.feature,
        cache_candidates.environment,
        cache_candidates.model_id,
        cast(null as varchar) as smaller_model_id,
        cast(null as varchar) as resource_id,
        cache_candidates.reporting_currency,
        cache_candidates.window_cost,
        cache_savings.window_saving,
        cast(null as double) as idle_gpu_hours,
        cast(null as double) as busy_gpu_hours,
        cast(null as double) as idle_share,
        cache_candidates.requests,
        cache_candidates.input_tokens,
        cache_candidates.cached_input_tokens,
        cache_candidates.output_tokens,
        cache_candidates.cache_hit_rate,
        cache_candidates.target_cache_hit_rate,
        cache_candidates.evidence_days
    from cache_candidates
    inner join cache_savings
        on
            cache_candidates.team = cache_savings.team
            and cache_candidates.feature is not distinct from cache_savings.feature
            and cache_candidates.environment is not distinct from cache_savings.environment
            and cache_candidates.model_id = cache_savings.model_id

),

batch_eligible as (

    -- Traffic off the batch tier in an environment that waits for answers:
    -- the batch APIs bill it at batch_discount of the price paid now.
    select
        'batch_eligible' as kind,
        token_usage.team,
        token_usage.feature,
        token_usage.environment,
        token_usage.model_id,
        cast(null as varchar) as smaller_model_id,
        cast(null as varchar) as resource_id,
        token_usage.reporting_currency,
        sum(token_usage.cost_reporting) as window_cost,
        sum(token_usage.cost_reporting * (1 - token_usage.batch_discount)) as window_saving,
        cast(null as double) as idle_gpu_hours,
        cast(null as double) as busy_gpu_hours,
        cast(null as double) as idle_share,
        sum(token_usage.requests) as requests,
        sum(token_usage.input_tokens) as input_tokens,
        sum(token_usage.cached_input_tokens) as cached_input_tokens,
        sum(token_usage.output_tokens) as output_tokens,
        cast(null as double) as cache_hit_rate,
        cast(null as double) as target_cache_hit_rate,
        count(distinct token_usage.charge_date) as evidence_days
    from token_usage
    inner join batch_environments on token_usage.environment = batch_environments.environment
    where token_usage.workload_type != 'batch' and token_usage.batch_discount < 1
    group by all

),

smaller_model as (

    select
        'smaller_model' as kind,
        token_subjects.team,
        token_subjects.feature,
        token_subjects.environment,
        token_subjects.model_id,
        token_subjects.smaller_model_id,
        cast(null as varchar) as resource_id,
        token_subjects.reporting_currency,
        token_subjects.window_cost,
        token_subjects.smaller_model_window_saving as window_saving,
        cast(null as double) as idle_gpu_hours,
        cast(null as double) as busy_gpu_hours,
        cast(null as double) as idle_share,
        token_subjects.requests,
        token_subjects.input_tokens,
        token_subjects.cached_input_tokens,
        token_subjects.output_tokens,
        token_subjects.cache_hit_rate,
        cast(null as double) as target_cache_hit_rate,
        token_subjects.evidence_days
    from token_subjects
    cross join thresholds
    where
        token_subjects.smaller_model_id is not null
        and token_subjects.avg_output_tokens_per_request < thresholds.max_avg_output_tokens

),

candidates as (

    select * from idle_gpu
    union all
    select * from low_cache_hit
    union all
    select * from batch_eligible
    union all
    select * from smaller_model

),

scored as (

    select
        candidates.*,
        window_bounds.window_start,
        window_bounds.window_end,
        window_bounds.window_days,
        cast(candidates.window_saving * window_bounds.month_scale as decimal(18, 2))
            as estimated_monthly_saving,
        -- Evidence on most of the window is high; a model swap changes
        -- answers, so it is never more than medium until someone checks them.
        case
            when
                candidates.evidence_days >= thresholds.high_confidence_min_days
                and candidates.kind != 'smaller_model'
                then 'high'
            when candidates.evidence_days >= thresholds.medium_confidence_min_days then 'medium'
            else 'low'
        end as confidence,
        thresholds.min_monthly_saving
    from candidates
    cross join window_bounds
    cross join thresholds

),

final as (

    select
        {{ surrogate_key(['kind', 'team', 'feature', 'environment', 'model_id', 'resource_id']) }}
            as recommendation_id,
        kind,
        team,
        feature,
        environment,
        model_id,
        smaller_model_id,
        resource_id,
        confidence,
        case kind
            when 'idle_gpu'
                then format(
                    '{} on {}: {:.0f} of {:.0f} paid GPU hours idle ({:.0f}%), {:.2f} {} over {} final days',
                    coalesce(feature, team), resource_id, idle_gpu_hours, idle_gpu_hours + busy_gpu_hours,
                    100 * idle_share, window_saving, reporting_currency, window_days
                )
            when 'low_cache_hit'
                then format(
                    '{} on {}: {:.0f} input tokens per request, {:.0f}% cache hits'
                    || ' where the org reaches {:.0f}% on this model',
                    feature, model_id, input_tokens / requests, 100 * cache_hit_rate, 100 * target_cache_hit_rate
                )
            when 'batch_eligible'
                then format(
                    '{} ({}) on {}: {:.2f} {} of {} traffic off the batch tier over {} final days',
                    feature, environment, model_id, window_cost, reporting_currency, environment, window_days
                )
            when 'smaller_model' then format(
                '{} on {}: {:.0f} output tokens per request; the same tokens on {}'
                || ' cost {:.2f} {} less on its {} days of the window',
                feature, model_id, output_tokens / requests, smaller_model_id, window_saving,
                reporting_currency, evidence_days
            )
        end as evidence,
        reporting_currency,
        cast(window_cost as decimal(18, 2)) as window_cost,
        cast(window_saving as decimal(18, 2)) as window_saving,
        estimated_monthly_saving,
        idle_gpu_hours,
        busy_gpu_hours,
        idle_share,
        cast(requests as bigint) as requests,
        cast(input_tokens as bigint) as input_tokens,
        cast(cached_input_tokens as bigint) as cached_input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        input_tokens / nullif(requests, 0) as avg_input_tokens_per_request,
        output_tokens / nullif(requests, 0) as avg_output_tokens_per_request,
        cache_hit_rate,
        target_cache_hit_rate,
        evidence_days,
        window_days,
        window_start,
        window_end
    from scored
    where estimated_monthly_saving >= min_monthly_saving

)

select * from final
