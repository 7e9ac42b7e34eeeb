-- Daily business value per feature in the reporting currency: revenue at the
-- fx rate in force on its day, and the part of it AI is credited with (the
-- feature catalogue's value_method). The value side of ROI for the product and
-- leadership marts and the semantic layer, converted and credited once.
with

kpis as (

    select * from {{ ref('stg_value__feature_kpis') }}

),

fx as (

    select * from {{ ref('int_fx_rates_ranged') }}

),

features as (

    select * from {{ ref('feature_catalogue') }}

),

converted as (

    select
        kpis.*,
        {{ rate_to_reporting('kpis.currency') }} as rate_to_reporting
    from kpis
    {{ join_rate_to_reporting('kpis.currency', 'kpis.kpi_date') }}

),

valued as (

    select
        *,
        cast(revenue as double) * rate_to_reporting as value
    from converted

),

final as (

    select
        -- ids
        valued.feature_kpi_id,
        valued.feature_id,

        -- strings
        valued.currency as revenue_currency,
        '{{ var("reporting_currency") }}' as reporting_currency,
        features.value_method,

        -- numerics
        valued.active_users,
        valued.conversions,
        valued.revenue,
        valued.value,
        cast(features.ai_value_share as double) as ai_value_share,
        -- The baseline is in the revenue's currency, so it converts at the revenue's rate.
        cast(features.baseline_value_per_day as double) * valued.rate_to_reporting as baseline_value,
        case
            when features.value_method = 'share'
                then valued.value * cast(features.ai_value_share as double)
            when features.value_method = 'incremental'
                then valued.value - cast(features.baseline_value_per_day as double) * valued.rate_to_reporting
        end as credited_value,

        -- dates
        valued.kpi_date

    from valued
    left join features
        on valued.feature_id = features.feature_id

)

select * from final
