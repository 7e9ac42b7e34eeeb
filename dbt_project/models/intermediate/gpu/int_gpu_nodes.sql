-- The GPU nodes the warehouse measures, and which telemetry measures each.
-- DCGM (Prometheus) is preferred: it knows which pod held a GPU. A host DCGM
-- never reported on is measured from its nvidia-smi logs instead, so a GPU
-- box outside Kubernetes still gets busy and idle hours. A node's size is the
-- number of distinct GPUs ever seen on it, so a day without samples still
-- has a capacity.
with

dcgm_samples as (

    select * from {{ dcgm_utilisation_samples() }}

),

smi_samples as (

    select * from {{ ref('stg_nvidia_smi__gpu_samples') }}

),

dcgm_nodes as (

    select
        hostname,
        'dcgm' as telemetry_source,
        count(distinct gpu_index) as node_gpus
    from dcgm_samples
    group by hostname

),

smi_nodes as (

    select
        hostname,
        'nvidia_smi' as telemetry_source,
        count(distinct gpu_uuid) as node_gpus
    from smi_samples
    where hostname not in (select dcgm_nodes.hostname from dcgm_nodes)
    group by hostname

),

final as (

    select * from dcgm_nodes
    union all
    select * from smi_nodes

)

select * from final
