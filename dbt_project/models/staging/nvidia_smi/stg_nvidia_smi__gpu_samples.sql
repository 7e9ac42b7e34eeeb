-- nvidia-smi logs carry no query step: a sample stands for the time until the
-- same GPU's next sample (the last one: the time since its previous sample),
-- capped at var nvidia_smi_max_step_seconds (default 300), because a longer
-- gap is a logging outage, not utilisation. A reading of [N/A] stays null.
{%- set max_step = var('nvidia_smi_max_step_seconds', 300) | int %}
with

source as (

    select * from {{ source('nvidia_smi', 'gpu_samples') }}

),

gaps as (

    select
        *,
        epoch(
            lead(sample_at) over (
                partition by source_name, hostname, gpu_uuid
                order by sample_at
            )
        ) - epoch(sample_at) as seconds_to_next,
        epoch(sample_at) - epoch(
            lag(sample_at) over (
                partition by source_name, hostname, gpu_uuid
                order by sample_at
            )
        ) as seconds_since_previous
    from source

),

renamed as (

    select
        -- ids
        {{ surrogate_key(['source_name', 'hostname', 'gpu_uuid', 'sample_at']) }} as gpu_sample_id,
        source_name,
        record_ref,
        hostname,
        gpu_uuid,
        gpu_index,

        -- strings
        gpu_name as gpu_model_name,
        pci_bus_id,

        -- numerics
        cast(utilization_gpu_pct as double) as utilization_pct,
        cast(memory_used_mib as double) as memory_used_mib,
        cast(memory_total_mib as double) as memory_total_mib,
        cast(power_draw_w as double) as power_draw_w,
        cast(least(
            coalesce(seconds_to_next, seconds_since_previous, {{ max_step }}), {{ max_step }}
        ) as integer) as step_seconds,

        -- dates (UTC)
        cast(timezone('UTC', sample_at) as date) as sample_date,

        -- timestamps (UTC)
        sample_at

    from gaps

)

select * from renamed
