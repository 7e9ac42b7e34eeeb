-- GPU hours per node x day x namespace x pod.
-- DCGM nodes: each GPU_UTIL sample stands for `step_seconds` of one GPU: an
-- allocated GPU-hour share when a pod holds the GPU, busy in proportion to
-- utilisation.
-- nvidia-smi nodes (hosts DCGM does not report on, int_gpu_nodes): no pod is
-- known, so every sample counts as allocated to the host itself (namespace
-- and pod null; attribution rules match it by gpu_host), busy in proportion
-- to utilisation (an [N/A] reading counts as not busy).
-- Capacity is what the node could have delivered that day: gpus x 24 hours.
with

dcgm_samples as (

    select * from {{ dcgm_utilisation_samples() }}

),

smi_samples as (

    select * from {{ ref('stg_nvidia_smi__gpu_samples') }}

),

nodes as (

    select * from {{ ref('int_gpu_nodes') }}

),

dcgm_hours as (

    select
        dcgm_samples.hostname,
        dcgm_samples.sample_date as usage_date,
        dcgm_samples.k8s_namespace,
        dcgm_samples.k8s_pod,
        {{ exact_sum(
            'least(greatest(dcgm_samples.metric_value, 0), 100) / 100.0 * dcgm_samples.step_seconds / 3600.0'
        ) }} as gpu_hours_busy,
        {{ exact_sum('dcgm_samples.step_seconds / 3600.0') }} as gpu_hours_allocated
    from dcgm_samples
    inner join nodes
        on
            dcgm_samples.hostname = nodes.hostname
            and nodes.telemetry_source = 'dcgm'
    where dcgm_samples.has_workload
    group by dcgm_samples.hostname, dcgm_samples.sample_date, dcgm_samples.k8s_namespace, dcgm_samples.k8s_pod

),

smi_hours as (

    select
        smi_samples.hostname,
        smi_samples.sample_date as usage_date,
        cast(null as varchar) as k8s_namespace,
        cast(null as varchar) as k8s_pod,
        {{ exact_sum(
            'least(greatest(coalesce(smi_samples.utilization_pct, 0), 0), 100) / 100.0'
            ~ ' * smi_samples.step_seconds / 3600.0'
        ) }} as gpu_hours_busy,
        {{ exact_sum('smi_samples.step_seconds / 3600.0') }} as gpu_hours_allocated
    from smi_samples
    inner join nodes
        on
            smi_samples.hostname = nodes.hostname
            and nodes.telemetry_source = 'nvidia_smi'
    group by smi_samples.hostname, smi_samples.sample_date

),

by_workload as (

    select
        *,
        'dcgm' as telemetry_source
    from dcgm_hours
    union all
    select
        *,
        'nvidia_smi' as telemetry_source
    from smi_hours

),

final as (

    select
        {{ surrogate_key([
            'by_workload.hostname', 'by_workload.usage_date', 'by_workload.k8s_namespace',
            'by_workload.k8s_pod',
        ]) }} as gpu_usage_id,
        by_workload.hostname,
        by_workload.k8s_namespace,
        by_workload.k8s_pod,
        by_workload.telemetry_source,
        nodes.node_gpus,
        by_workload.gpu_hours_busy,
        by_workload.gpu_hours_allocated,
        nodes.node_gpus * 24.0 as node_capacity_gpu_hours,
        by_workload.usage_date
    from by_workload
    inner join nodes
        on by_workload.hostname = nodes.hostname

)

select * from final
