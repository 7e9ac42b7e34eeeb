-- Anthropic reports uncached input, cache reads and cache writes (5 minute
-- and 1 hour) as separate counts. input_tokens is their sum here, so it means
-- the same as OpenAI's input_tokens (which includes cached tokens).
with

source as (

    select * from {{ source('anthropic', 'usage_messages') }}

),

renamed as (

    select
        -- ids
        {{ surrogate_key([
            'source_name', 'bucket_start_at', 'api_key_id', 'workspace_id', 'model', 'service_tier',
        ]) }} as usage_id,
        source_name,
        record_ref,
        coalesce(workspace_id, 'default_workspace') as workspace_id,
        api_key_id,
        model as model_id,

        -- strings
        service_tier,

        -- numerics
        cast(
            uncached_input_tokens + cache_read_input_tokens
            + cache_creation_5m_input_tokens + cache_creation_1h_input_tokens
            as bigint
        ) as input_tokens,
        cast(uncached_input_tokens as bigint) as uncached_input_tokens,
        cast(cache_read_input_tokens as bigint) as cached_input_tokens,
        cast(cache_creation_5m_input_tokens as bigint) as cache_write_5m_tokens,
        cast(cache_creation_1h_input_tokens as bigint) as cache_write_1h_tokens,
        cast(output_tokens as bigint) as output_tokens,

        -- booleans
        coalesce(lower(service_tier) = 'batch', false) as is_batch,

        -- dates (UTC)
        cast(timezone('UTC', bucket_start_at) as date) as usage_date,

        -- timestamps (UTC)
        bucket_start_at,
        bucket_end_at

    from source

)

select * from renamed
