with

source as (

    select * from {{ source('dcgm', 'gpu_metrics') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['source_name', 'metric_name', 'hostname', 'gpu', 'sample_at']) }} as gpu_sample_id,
        source_name,
        record_ref,
        hostname,
        gpu as gpu_index,
        uuid as gpu_uuid,

        -- strings
        metric_name,
        model_name as gpu_model_name,
        namespace as k8s_namespace,
        pod as k8s_pod,
        container as k8s_container,

        -- numerics
        cast(value as double) as metric_value,
        cast(step_seconds as integer) as step_seconds,

        -- booleans
        namespace is not null as has_workload,

        -- dates (UTC)
        cast(timezone('UTC', sample_at) as date) as sample_date,

        -- timestamps (UTC)
        sample_at

    from source

)

select * from renamed
