with

source as (

    select * from {{ source('value', 'feature_kpis') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['source_name', 'feature_id', 'kpi_at']) }} as feature_kpi_id,
        source_name,
        record_ref,
        feature_id,

        -- strings
        upper(currency) as currency,

        -- numerics
        cast(active_users as bigint) as active_users,
        cast(conversions as bigint) as conversions,
        cast(revenue as decimal(38, 12)) as revenue,

        -- dates (UTC)
        cast(timezone('UTC', kpi_at) as date) as kpi_date,

        -- timestamps (UTC)
        kpi_at

    from source

)

select * from renamed
