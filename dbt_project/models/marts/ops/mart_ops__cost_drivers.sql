-- Why cost moved: each whole week (ISO, Monday start) and month against the one
-- before it, the change in spend per team × feature × model split into volume,
-- unit price and mix effects that add up exactly to the change.
--
-- Which periods are compared: only a period whose every calendar day is a
-- final day (ops_day_status), against the adjacent period that is also whole.
-- A week still landing, or one with a provisional day, would show a fake drop.
--
-- The method (price-volume-mix within a unit family). An item is a team ×
-- feature × model × volume_unit; its volume is counted in its own unit:
-- tokens (input, cached included, plus output) for LLM usage, paid GPU-hours
-- (busy plus idle) for GPU cost, requests for token cost with no tokens.
-- The items of one team × feature in one unit form a family: the family's
-- volume moving (a campaign tripling a feature's traffic) is volume, the share
-- of its models moving (a feature switched to another model) is mix, and the
-- price per unit of each model moving (a price cut, more cache hits) is
-- price. Families never span units, so tokens and GPU-hours never add. With V the
-- item's volume, F its family's volume, P0 its prior unit price (cost/volume;
-- an item new this period takes its current price) and 0/1 prior/current:
--     volume_effect = P0 × V0 × (F1 - F0) / F0   the family grew, at prior mix and price
--     mix_effect    = P0 × (V1 - V0 × F1 / F0)   the item's share of the family moved
--     price_effect  = cost_change - volume_effect - mix_effect
-- which is V1 × (P1 - P0) when the item has volume in both periods: the
-- price change on the current volume, the interaction term folded in. Spend
-- with no volume (flat cloud services, shared lines, tax) has no unit to
-- split, so its whole change is price_effect: what the service charged moved.
-- volume and mix are computed once as DECIMAL and price is the remainder, so
-- the three add up to the change exactly (tests/assert_cost_drivers_add_up.sql).
--
-- Rows: driver_level 'item', 'team' (feature and model_id 'all') and 'org'
-- (team 'all' too); team and org rows are the sums of their items' effects.
--
-- Events: an events_calendar row annotates a driver when it overlaps either
-- period but does not span both whole periods (an event in force throughout
-- both explains no change), and its team, feature and model match the
-- driver's (null in the calendar matches any). A model switch names the new
-- model, so it annotates the feature's other models too: they lose the spend.
{%- set period_grains = ['week', 'month'] %}
{#- A driver's grain: its period, its item (or 'all'), and its level. #}
{%- set period_columns = ['period_grain', 'period_start', 'period_end', 'prior_period_start'] %}
{%- set item_columns = ['team', 'feature', 'model_id', 'volume_unit'] %}
{%- set driver_keys = ['driver_level', 'period_grain', 'period_start'] + item_columns %}
{%- set driver_columns = ['driver_level'] + period_columns + item_columns + [
    'reporting_currency', 'prior_volume', 'current_volume', 'prior_cost', 'current_cost',
    'cost_change', 'volume_effect', 'mix_effect', 'price_effect',
] %}
{#- Team and org rows are the sums of their items' money and effects (the drivers
    union reads its columns by name, so their order there is free). #}
{%- set summed_columns = [
    'prior_cost', 'current_cost', 'cost_change', 'volume_effect', 'mix_effect', 'price_effect',
] %}
with

fact as (

    select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}

),

day_status as (

    select * from {{ ref('ops_day_status') }}

),

events_calendar as (

    select * from {{ ref('events_calendar') }}

),

final_days as (

    select landing_date as charge_date
    from day_status
    group by landing_date
    having bool_and(is_final_day)

),

final_days_by_period as (

    {%- for grain in period_grains %}
    select
        '{{ grain }}' as period_grain,
        cast(date_trunc('{{ grain }}', charge_date) as date) as period_start,
        cast(date_trunc('{{ grain }}', charge_date) + interval 1 {{ grain }} as date) as period_end,
        count(*) as final_days
    from final_days
    group by period_start, period_end
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

whole_periods as (

    select
        period_grain,
        period_start,
        period_end
    from final_days_by_period
    where final_days = period_end - period_start

),

comparisons as (

    select
        current_period.period_grain,
        current_period.period_start,
        current_period.period_end,
        prior_period.period_start as prior_period_start
    from whole_periods as current_period
    inner join whole_periods as prior_period
        on
            current_period.period_grain = prior_period.period_grain
            and current_period.period_start = prior_period.period_end

),

fact_units as (

    select
        charge_date,
        team,
        feature,
        model_id,
        reporting_currency,
        effective_cost_reporting,
        case
            when cost_type = 'gpu' then 'gpu_hours'
            when cost_type = 'tokens' and coalesce(input_tokens, 0) + coalesce(output_tokens, 0) > 0
                then 'tokens'
            when cost_type = 'tokens' and coalesce(requests, 0) > 0 then 'requests'
            else 'none'
        end as volume_unit,
        coalesce(input_tokens, 0) + coalesce(output_tokens, 0) as tokens,
        coalesce(requests, 0) as requests,
        coalesce(gpu_hours_busy, 0) + coalesce(gpu_hours_idle, 0) as gpu_hours
    from fact

),

fact_volumes as (

    select
        *,
        case volume_unit
            when 'tokens' then tokens
            when 'requests' then requests
            when 'gpu_hours' then gpu_hours
        end as volume
    from fact_units

),

compared_fact as (

    select
        comparisons.period_grain,
        comparisons.period_start,
        comparisons.period_end,
        comparisons.prior_period_start,
        fact_volumes.team,
        fact_volumes.feature,
        fact_volumes.model_id,
        fact_volumes.volume_unit,
        fact_volumes.reporting_currency,
        fact_volumes.volume,
        fact_volumes.effective_cost_reporting,
        fact_volumes.charge_date >= comparisons.period_start as is_current_period
    from comparisons
    inner join fact_volumes
        on
            comparisons.prior_period_start <= fact_volumes.charge_date
            and comparisons.period_end > fact_volumes.charge_date

),

item_periods as (

    select
        {%- for column in period_columns + item_columns %}
        {{ column }},
        {%- endfor %}
        max(reporting_currency) as reporting_currency,
        -- null volume for spend with no unit, 0 for a unit the item did not use that period
        case
            when volume_unit != 'none'
                then coalesce({{ exact_sum('case when not is_current_period then volume end') }}, 0)
        end as prior_volume,
        case
            when volume_unit != 'none'
                then coalesce({{ exact_sum('case when is_current_period then volume end') }}, 0)
        end as current_volume,
        coalesce(sum(case when not is_current_period then effective_cost_reporting end), 0) as prior_cost,
        coalesce(sum(case when is_current_period then effective_cost_reporting end), 0) as current_cost
    from compared_fact
    group by {{ (period_columns + item_columns) | join(', ') }}

),

family_volumes as (

    select
        period_grain,
        period_start,
        team,
        feature,
        volume_unit,
        sum(prior_volume) as family_prior_volume,
        sum(current_volume) as family_current_volume
    from item_periods
    where volume_unit != 'none'
    group by period_grain, period_start, team, feature, volume_unit

),

item_prices as (

    select
        item_periods.*,
        family_volumes.family_prior_volume,
        family_volumes.family_current_volume,
        coalesce(
            {{ safe_divide('item_periods.prior_cost', 'item_periods.prior_volume') }},
            {{ safe_divide('item_periods.current_cost', 'item_periods.current_volume') }},
            0
        ) as base_unit_price
    from item_periods
    left join family_volumes
        on
            item_periods.period_grain = family_volumes.period_grain
            and item_periods.period_start = family_volumes.period_start
            and item_periods.team = family_volumes.team
            and item_periods.feature is not distinct from family_volumes.feature
            and item_periods.volume_unit = family_volumes.volume_unit

),

item_effects as (

    select
        'item' as driver_level,
        {%- for column in period_columns + item_columns %}
        {{ column }},
        {%- endfor %}
        reporting_currency,
        prior_volume,
        current_volume,
        prior_cost,
        current_cost,
        current_cost - prior_cost as cost_change,
        cast(case
            when volume_unit = 'none' then 0
            -- a family new this period (a feature launched) is all volume
            when family_prior_volume = 0 then base_unit_price * cast(current_volume as double)
            else
                base_unit_price * cast(prior_volume as double)
                * cast(family_current_volume - family_prior_volume as double)
                / cast(family_prior_volume as double)
        end as decimal(38, 12)) as volume_effect,
        cast(case
            when volume_unit = 'none' or family_prior_volume = 0 then 0
            else
                base_unit_price * (
                    cast(current_volume as double)
                    - cast(prior_volume as double) * cast(family_current_volume as double)
                    / cast(family_prior_volume as double)
                )
        end as decimal(38, 12)) as mix_effect
    from item_prices

),

item_drivers as (

    select
        *,
        cost_change - volume_effect - mix_effect as price_effect
    from item_effects

),

team_drivers as (

    select
        'team' as driver_level,
        {%- for column in period_columns %}
        {{ column }},
        {%- endfor %}
        team,
        'all' as feature,
        'all' as model_id,
        case when count(distinct volume_unit) = 1 then min(volume_unit) else 'mixed' end as volume_unit,
        {%- for column in summed_columns %}
        sum({{ column }}) as {{ column }},
        {%- endfor %}
        max(reporting_currency) as reporting_currency,
        case when count(distinct volume_unit) = 1 then sum(prior_volume) end as prior_volume,
        case when count(distinct volume_unit) = 1 then sum(current_volume) end as current_volume
    from item_drivers
    group by {{ period_columns | join(', ') }}, team

),

org_drivers as (

    select
        'org' as driver_level,
        {%- for column in period_columns %}
        {{ column }},
        {%- endfor %}
        'all' as team,
        'all' as feature,
        'all' as model_id,
        'mixed' as volume_unit,
        {%- for column in summed_columns %}
        sum({{ column }}) as {{ column }},
        {%- endfor %}
        max(reporting_currency) as reporting_currency,
        cast(null as decimal(38, 12)) as prior_volume,
        cast(null as decimal(38, 12)) as current_volume
    from item_drivers
    group by {{ period_columns | join(', ') }}

),

drivers as (

    select {{ driver_columns | join(', ') }} from item_drivers
    union all
    select {{ driver_columns | join(', ') }} from team_drivers
    union all
    select {{ driver_columns | join(', ') }} from org_drivers

),

item_events as (

    select distinct
        item_drivers.period_grain,
        item_drivers.period_start,
        item_drivers.team,
        item_drivers.feature,
        item_drivers.model_id,
        item_drivers.volume_unit,
        events_calendar.event_name,
        replace(events_calendar.kind, '_', ' ') || ' ''' || events_calendar.event_name || '''' as event_described
    from item_drivers
    inner join events_calendar
        on
            item_drivers.period_end > events_calendar.start_date
            and item_drivers.prior_period_start <= coalesce(events_calendar.end_date, item_drivers.period_end)
            and not (
                item_drivers.prior_period_start >= events_calendar.start_date
                and item_drivers.period_end - 1 <= coalesce(events_calendar.end_date, item_drivers.period_end)
            )
            and (events_calendar.team is null or item_drivers.team = events_calendar.team)
            and (events_calendar.feature is null or item_drivers.feature = events_calendar.feature)
            and (
                events_calendar.model_id is null
                or item_drivers.model_id = events_calendar.model_id
                or events_calendar.kind = 'model_switch'
            )

),

-- A team's (and the org's) events are its items' events: an event that moved
-- none of its items' spend is not named on the total either.
matching_events as (

    select
        'item' as driver_level,
        period_grain,
        period_start,
        team,
        feature,
        model_id,
        volume_unit,
        event_name,
        event_described
    from item_events
    union all
    select distinct
        'team' as driver_level,
        item_events.period_grain,
        item_events.period_start,
        item_events.team,
        'all' as feature,
        'all' as model_id,
        team_drivers.volume_unit,
        item_events.event_name,
        item_events.event_described
    from item_events
    inner join team_drivers
        on
            item_events.period_grain = team_drivers.period_grain
            and item_events.period_start = team_drivers.period_start
            and item_events.team = team_drivers.team
    union all
    select distinct
        'org' as driver_level,
        period_grain,
        period_start,
        'all' as team,
        'all' as feature,
        'all' as model_id,
        'mixed' as volume_unit,
        event_name,
        event_described
    from item_events

),

{#- Each driver's events, listed by name and as told in words. #}
{%- set event_lists = {'events': 'event_name', 'events_described': 'event_described'} %}
{%- for list_name, event_column in event_lists.items() %}
{{ list_name }}_by_driver as (

    select
        {%- for column in driver_keys %}
        {{ column }},
        {%- endfor %}
        {{ dbt.listagg(event_column, "'; '", 'order by ' ~ event_column) }} as {{ list_name }}
    from (
        select distinct
            {%- for column in driver_keys %}
            {{ column }},
            {%- endfor %}
            {{ event_column }}
        from matching_events
    ) as distinct_events
    group by {{ driver_keys | join(', ') }}

),
{% endfor %}

org_prior_costs as (

    select
        period_grain,
        period_start,
        prior_cost as org_prior_cost
    from org_drivers

),

final as (

    select
        -- ids
        {{ surrogate_key([
            'drivers.period_grain', 'drivers.period_start', 'drivers.driver_level',
            'drivers.team', 'drivers.feature', 'drivers.model_id', 'drivers.volume_unit',
        ]) }} as cost_driver_id,

        -- strings
        drivers.period_grain,
        drivers.driver_level,
        drivers.team,
        drivers.feature,
        drivers.model_id,
        drivers.volume_unit,
        events_by_driver.events,
        events_described_by_driver.events_described,
        drivers.reporting_currency,

        -- numerics
        cast(drivers.prior_volume as decimal(38, 12)) as prior_volume,
        cast(drivers.current_volume as decimal(38, 12)) as current_volume,
        cast(drivers.prior_cost as decimal(38, 12)) as prior_cost,
        cast(drivers.current_cost as decimal(38, 12)) as current_cost,
        cast(drivers.cost_change as decimal(38, 12)) as cost_change,
        cast(drivers.volume_effect as decimal(38, 12)) as volume_effect,
        cast(drivers.price_effect as decimal(38, 12)) as price_effect,
        cast(drivers.mix_effect as decimal(38, 12)) as mix_effect,
        100 * {{ safe_divide('drivers.cost_change', 'drivers.prior_cost') }} as cost_change_pct,
        100 * {{ safe_divide('drivers.cost_change', 'org_prior_costs.org_prior_cost') }}
            as share_of_total_change_pts,

        -- dates
        drivers.prior_period_start,
        drivers.period_start,
        cast(drivers.period_end - 1 as date) as period_end_date

    from drivers
    inner join org_prior_costs
        on
            drivers.period_grain = org_prior_costs.period_grain
            and drivers.period_start = org_prior_costs.period_start
    {%- for list_name in event_lists %}
    left join {{ list_name }}_by_driver
        on
            drivers.driver_level = {{ list_name }}_by_driver.driver_level
            and drivers.period_grain = {{ list_name }}_by_driver.period_grain
            and drivers.period_start = {{ list_name }}_by_driver.period_start
            and drivers.team = {{ list_name }}_by_driver.team
            and drivers.feature is not distinct from {{ list_name }}_by_driver.feature
            and drivers.model_id is not distinct from {{ list_name }}_by_driver.model_id
            and drivers.volume_unit = {{ list_name }}_by_driver.volume_unit
    {%- endfor %}

)

select * from final
