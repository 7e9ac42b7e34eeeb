-- GPU hours per node x day x namespace from DCGM utilisation samples.
-- Each sample stands for `step_seconds` of one GPU: it is an allocated GPU
-- hour share when a pod holds the GPU, and busy in proportion to utilisation.
-- Capacity is what the node could have delivered that day: gpus x 24 hours.
with

samples as (

    select * from {{ ref('stg_dcgm__gpu_samples') }}
    where metric_name = 'DCGM_FI_DEV_GPU_UTIL'

),

node_gpus as (

    -- Over all history, so a node-day without any sample still has a size.
    select
        hostname,
        count(distinct gpu_index) as gpus
    from samples
    group by hostname

),

by_namespace as (

    select
        hostname,
        sample_date as usage_date,
        k8s_namespace,
        sum(least(greatest(metric_value, 0), 100) / 100.0 * step_seconds / 3600.0) as gpu_hours_busy,
        sum(step_seconds / 3600.0) as gpu_hours_allocated
    from samples
    where has_workload
    group by hostname, sample_date, k8s_namespace

),

final as (

    select
        {{ surrogate_key([
            'by_namespace.hostname', 'by_namespace.usage_date', 'by_namespace.k8s_namespace',
        ]) }} as gpu_usage_id,
        by_namespace.hostname,
        by_namespace.k8s_namespace,
        node_gpus.gpus as node_gpus,
        by_namespace.gpu_hours_busy,
        by_namespace.gpu_hours_allocated,
        node_gpus.gpus * 24.0 as node_capacity_gpu_hours,
        by_namespace.usage_date
    from by_namespace
    inner join node_gpus
        on by_namespace.hostname = node_gpus.hostname

)

select * from final
