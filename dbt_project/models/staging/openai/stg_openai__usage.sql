-- Completions and embeddings buckets in one relation with an `endpoint`
-- column. input_tokens INCLUDES input_cached_tokens (Usage API semantics);
-- the uncached part is derived here once so nobody subtracts it twice.
with

completions as (

    select
        *,
        'completions' as endpoint
    from {{ source('openai', 'usage_completions') }}

),

embeddings as (

    select
        *,
        'embeddings' as endpoint
    from {{ source('openai', 'usage_embeddings') }}

),

unioned as (

    select * from completions
    union all
    select * from embeddings

),

renamed as (

    select
        -- ids
        {{ surrogate_key([
            'endpoint', 'source_name', 'bucket_start_at', 'project_id', 'user_id', 'api_key_id',
            'model', 'is_batch',
        ]) }} as usage_id,
        source_name,
        record_ref,
        coalesce(project_id, 'no_project') as project_id,
        user_id,
        api_key_id,
        model as model_id,

        -- strings
        endpoint,

        -- numerics
        cast(input_tokens as bigint) as input_tokens,
        cast(input_cached_tokens as bigint) as cached_input_tokens,
        cast(input_tokens - input_cached_tokens as bigint) as uncached_input_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(coalesce(input_audio_tokens, 0) as bigint) as input_audio_tokens,
        cast(coalesce(output_audio_tokens, 0) as bigint) as output_audio_tokens,
        cast(num_model_requests as bigint) as requests,

        -- booleans
        coalesce(is_batch, false) as is_batch,

        -- dates (UTC)
        cast(timezone('UTC', bucket_start_at) as date) as usage_date,

        -- timestamps (UTC)
        bucket_start_at,
        bucket_end_at

    from unioned

)

select * from renamed
