-- One row per Kubernetes node and the cloud instance behind it, from
-- kube_node_info. The instance id is the last segment of provider_id
-- (aws:///us-east-1a/i-0abc123 -> i-0abc123; GCE's gce://project/zone/name
-- ends in the instance name too), which is what a FOCUS line's ResourceId
-- carries for a VM. A node seen with several provider ids (re-registered on a
-- new instance) keeps each, with when it was first and last seen.
with

source as (

    select * from {{ source('kube_state_metrics', 'node_info') }}

),

renamed as (

    select
        -- ids
        node as hostname,
        provider_id,
        nullif(regexp_extract(provider_id, '([^/]+)$', 1), '') as instance_id,

        -- timestamps (UTC)
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at

    from source
    where provider_id is not null and provider_id <> ''
    group by node, provider_id

),

final as (

    select * from renamed
    where instance_id is not null

)

select * from final
