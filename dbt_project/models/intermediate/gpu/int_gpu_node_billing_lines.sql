-- The FOCUS lines that bill a GPU node of int_gpu_nodes, and which node.
-- A line finds its node by the first of, in this order:
--   1. resource_name = the node's name (a bill that names its resources);
--   2. resource_id = the instance id in the provider_id kube-state-metrics
--      reports for the node (kube_node_info; AWS bills carry only
--      ResourceId i-..., ResourceName empty);
--   3. resource_id = a row of the gpu_node_inventory seed (clusters without
--      kube-state-metrics, hosts outside Kubernetes).
-- The cluster's own report beats the hand-kept seed, so a stale seed row
-- cannot move a node Kubernetes names. Tax and Credit lines are never part of
-- a node-day pool: they stay cloud lines and are shared.
with

focus_lines as (

    select * from {{ ref('stg_focus__cost_and_usage') }}
    where charge_category not in ('Tax', 'Credit')

),

gpu_nodes as (

    select * from {{ ref('int_gpu_nodes') }}

),

kube_nodes as (

    select * from {{ ref('stg_kube_state_metrics__nodes') }}

),

inventory as (

    select * from {{ ref('gpu_node_inventory') }}

),

candidates as (

    select
        focus_lines.focus_line_id,
        focus_lines.charge_date,
        gpu_nodes.hostname,
        'resource_name' as node_match,
        1 as match_rank
    from focus_lines
    inner join gpu_nodes
        on focus_lines.resource_name = gpu_nodes.hostname
    union all
    select
        focus_lines.focus_line_id,
        focus_lines.charge_date,
        gpu_nodes.hostname,
        'kube_node_info' as node_match,
        2 as match_rank
    from focus_lines
    inner join kube_nodes
        on focus_lines.resource_id = kube_nodes.instance_id
    inner join gpu_nodes
        on kube_nodes.hostname = gpu_nodes.hostname
    union all
    select
        focus_lines.focus_line_id,
        focus_lines.charge_date,
        gpu_nodes.hostname,
        'node_inventory' as node_match,
        3 as match_rank
    from focus_lines
    inner join inventory
        on focus_lines.resource_id = inventory.resource_id
    inner join gpu_nodes
        on inventory.hostname = gpu_nodes.hostname

),

final as (

    -- hostname breaks a tie within one path (an instance id two nodes
    -- claimed), so a line is in exactly one pool.
    select
        focus_line_id,
        charge_date,
        hostname,
        node_match
    from candidates
    qualify row_number() over (
        partition by focus_line_id
        order by match_rank, hostname
    ) = 1

)

select * from final
