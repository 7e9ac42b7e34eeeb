-- Today's spend so far: the usage landed for one day up to its last complete
-- hour (the intraday DAG, warehouse/intraday.py), priced from the price book.
-- Built only into the intraday file: enabled by the var `intraday`, so the
-- daily build never builds it. No cost report is landed intraday, so every
-- pool in int_llm_cost_allocated is a pool of estimates, and its rule (ADR
-- 0004: gateway and provider usage of one call are counted once) holds here
-- as it does in the fact. Always estimated: tomorrow's daily run supersedes
-- it with billed cost (warehouse.intraday.superseded).
{{ config(enabled=var('intraday', false)) }}

with

allocated as (

    select * from {{ ref('int_llm_cost_allocated') }}

),

manifests as (

    select * from {{ ref('stg_landing__manifests') }}

),

fx as (

    select * from {{ ref('int_fx_rates_ranged') }}

),

today as (

    select *
    from allocated
    where charge_date = cast('{{ var("start_date") }}' as date)

),

landed_through as (

    -- The end of the last complete hour every intraday dataset landed: the
    -- earliest extraction window end among the day's partitions.
    select
        min(extraction_window_end_at) as as_of_at
    from manifests
    where partition_date = cast('{{ var("start_date") }}' as date)

),

aggregated as (

    select
        charge_date as spend_date,
        team,
        feature,
        provider,
        model_id,
        billing_currency,
        sum(coalesce(estimated_cost, 0)) as estimated_cost_priced,
        sum(input_tokens) as input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens,
        sum(requests) as requests,
        bool_and(estimated_cost is not null) as is_fully_priced
    from today
    group by all

),

converted as (

    select
        aggregated.*,
        '{{ var("reporting_currency") }}' as reporting_currency,
        {{ rate_to_reporting('aggregated.billing_currency') }} as fx_rate
    from aggregated
    {{ join_rate_to_reporting('aggregated.billing_currency', 'aggregated.spend_date') }}

),

final as (

    select
        {{ surrogate_key(['converted.spend_date', 'converted.team', 'converted.feature',
                          'converted.provider', 'converted.model_id', 'converted.billing_currency']) }}
            as spend_today_id,
        converted.team,
        converted.feature,
        converted.provider,
        converted.model_id,
        converted.reporting_currency,
        'estimated' as cost_basis,
        cast(converted.estimated_cost_priced * converted.fx_rate as decimal(38, 12))
            as estimated_cost,
        cast(coalesce(converted.input_tokens, 0) as bigint) as input_tokens,
        cast(coalesce(converted.cached_input_tokens, 0) as bigint) as cached_input_tokens,
        cast(coalesce(converted.output_tokens, 0) as bigint) as output_tokens,
        cast(coalesce(converted.requests, 0) as bigint) as requests,
        -- epoch() of a plain timestamp reads it as UTC, whatever the session's time zone.
        cast(
            (epoch(landed_through.as_of_at) - epoch(cast(converted.spend_date as timestamp)))
            // 3600 as integer
        ) as hours_covered,
        converted.is_fully_priced,
        converted.spend_date,
        landed_through.as_of_at
    from converted
    cross join landed_through

)

select * from final
