-- Daily business value per feature in the reporting currency: revenue at the
-- fx rate in force on its day. The value side of ROI for the product and
-- leadership marts, converted once.
with

kpis as (

    select * from {{ ref('stg_value__feature_kpis') }}

),

fx as (

    select * from {{ ref('int_fx_rates_ranged') }}

),

final as (

    select
        -- ids
        kpis.feature_kpi_id,
        kpis.feature_id,

        -- strings
        kpis.currency as revenue_currency,
        '{{ var("reporting_currency") }}' as reporting_currency,

        -- numerics
        kpis.active_users,
        kpis.conversions,
        kpis.revenue,
        cast(kpis.revenue as double) * case
            when kpis.currency = '{{ var("reporting_currency") }}' then 1.0
            else cast(fx.rate as double)
        end as value,

        -- dates
        kpis.kpi_date

    from kpis
    left join fx
        on
            kpis.currency = fx.from_currency
            and fx.to_currency = '{{ var("reporting_currency") }}'
            and kpis.kpi_date >= fx.valid_from
            and (fx.valid_to is null or kpis.kpi_date < fx.valid_to)

)

select * from final
