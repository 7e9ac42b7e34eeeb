-- Daily value per catalogue feature and the part credited to AI: the value
-- side of the feature_roi metric. Daily, so weeks (product) and months
-- (leadership) both add up exactly; the crediting is int_feature_value_converted's,
-- the same the product and leadership marts read, on the same final days.
with

feature_value as (

    select * from {{ final_days_only(ref('int_feature_value_converted'), 'kpi_date') }}

),

final as (

    select
        -- ids
        cast(feature_kpi_id as varchar) as feature_kpi_id,
        cast(feature_id as varchar) as feature_id,

        -- strings
        cast(value_method as varchar) as value_method,
        cast(reporting_currency as varchar) as reporting_currency,

        -- numerics
        cast(conversions as bigint) as conversions,
        cast(value as double) as value,
        cast(credited_value as double) as credited_value,

        -- dates
        cast(kpi_date as date) as kpi_date

    from feature_value
    -- Only catalogue features have a credit; the marts show no others either.
    where value_method is not null

)

select * from final
