-- The product manager's view: per catalogue feature and ISO week (Monday
-- start), what the feature cost, what value it brought (revenue from the value
-- source), the part of that value AI is credited with (the catalogue's
-- value_method, shown beside the number), ROI = (credited value - cost) / cost,
-- and the margin trend week over week.
-- Costs not attributed to a catalogue feature (shared, idle to owner,
-- unallocated) are not here; they stay visible in the fact and finance mart.
with

fact as (

    select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}

),

feature_value as (

    select * from {{ final_days_only(ref('int_feature_value_converted'), 'kpi_date') }}

),

features as (

    select * from {{ ref('feature_catalogue') }}

),

weekly_cost as (

    select
        cast(date_trunc('week', charge_date) as date) as week_start,
        feature as feature_id,
        sum(effective_cost_reporting) as cost,
        sum(estimated_cost) as estimated_cost
    from fact
    where feature is not null
    group by 1, 2

),

weekly_value as (

    select
        cast(date_trunc('week', kpi_date) as date) as week_start,
        feature_id,
        sum(active_users) as active_user_days,
        sum(conversions) as conversions,
        {{ exact_sum('value') }} as value,
        {{ exact_sum('baseline_value') }} as baseline_value,
        {{ exact_sum('credited_value') }} as credited_value
    from feature_value
    group by 1, 2

),

weeks as (

    select
        week_start,
        feature_id
    from weekly_cost
    union
    select
        week_start,
        feature_id
    from weekly_value

),

joined as (

    select
        weeks.week_start,
        features.feature_id,
        features.feature_name,
        features.team,
        features.portfolio,
        features.value_method,
        cast(features.ai_value_share as double) as ai_value_share,
        coalesce(cast(weekly_cost.cost as double), 0) as cost,
        coalesce(cast(weekly_cost.estimated_cost as double), 0) as estimated_cost,
        coalesce(weekly_value.value, 0) as value,
        weekly_value.baseline_value,
        coalesce(weekly_value.credited_value, 0) as credited_value,
        coalesce(weekly_value.active_user_days, 0) as active_user_days,
        coalesce(weekly_value.conversions, 0) as conversions
    from weeks
    inner join features
        on weeks.feature_id = features.feature_id
    left join weekly_cost
        on
            weeks.week_start = weekly_cost.week_start
            and weeks.feature_id = weekly_cost.feature_id
    left join weekly_value
        on
            weeks.week_start = weekly_value.week_start
            and weeks.feature_id = weekly_value.feature_id

),

with_margin as (

    select
        *,
        credited_value - cost as margin,
        lag(credited_value - cost) over (
            partition by feature_id
            order by week_start
        ) as previous_week_margin
    from joined

),

final as (

    select
        -- ids
        cast({{ surrogate_key(['week_start', 'feature_id']) }} as varchar) as feature_roi_id,
        cast(feature_id as varchar) as feature_id,

        -- strings
        cast(feature_name as varchar) as feature_name,
        cast(team as varchar) as team,
        cast(portfolio as varchar) as portfolio,
        cast(value_method as varchar) as value_method,
        cast('{{ var("reporting_currency") }}' as varchar) as reporting_currency,

        -- numerics
        cast(cost as decimal(38, 12)) as cost,
        cast(estimated_cost as decimal(38, 12)) as estimated_cost,
        cast(value as decimal(38, 12)) as value,
        cast(ai_value_share as double) as ai_value_share,
        cast(baseline_value as decimal(38, 12)) as baseline_value,
        cast(credited_value as decimal(38, 12)) as credited_value,
        cast(margin as decimal(38, 12)) as margin,
        {{ metric_feature_roi('credited_value', 'cost') }} as roi,
        {{ safe_divide('margin', 'credited_value') }} as margin_share,
        cast(active_user_days as bigint) as active_user_days,
        cast(conversions as bigint) as conversions,
        {{ safe_divide('cost', 'active_user_days') }} as cost_per_active_user,
        {{ safe_divide('cost', 'conversions') }} as cost_per_conversion,
        cast(previous_week_margin as decimal(38, 12)) as previous_week_margin,
        cast(margin - previous_week_margin as decimal(38, 12)) as margin_change,

        -- booleans
        credited_value < cost as is_loss_making,

        -- dates
        cast(week_start as date) as week_start

    from with_margin

)

select * from final
