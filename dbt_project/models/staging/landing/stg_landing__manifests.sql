-- What each source landed, day by day: the evidence a day is complete. Read
-- from the partition manifests, not the data files, so an empty day (a
-- manifest with no rows) is told apart from a day never extracted (none).
with

source as (

    select * from {{ source('landing', 'manifests') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['source', 'dataset', 'partition_date']) }} as manifest_id,
        cast(source as varchar) as source_name,
        cast(dataset as varchar) as dataset_name,

        -- numerics
        cast(coalesce(rows_in, 0) as bigint) as rows_in,
        cast(coalesce(rows_loaded, 0) as bigint) as rows_loaded,
        cast(coalesce(rows_quarantined, 0) as bigint) as rows_quarantined,

        -- dates (UTC)
        cast(partition_date as date) as partition_date,

        -- timestamps (UTC)
        cast(window_start as timestamptz) as extraction_window_start_at,
        cast(window_end as timestamptz) as extraction_window_end_at,
        cast(extracted_at as timestamptz) as extracted_at

    from source
    -- The placeholder manifest under _schema/ names no source.
    where source is not null

)

select * from renamed
