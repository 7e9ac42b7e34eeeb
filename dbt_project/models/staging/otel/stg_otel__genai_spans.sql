-- GenAI spans with token counts. The response model is what actually served
-- the call; the request model is the fallback. input_tokens follows the
-- GenAI semantic conventions and INCLUDES cache reads.
with

source as (

    select * from {{ source('otel', 'genai_spans') }}

),

renamed as (

    select
        -- ids
        source_name || ':' || trace_id || ':' || span_id as span_key,
        source_name,
        record_ref,
        trace_id,
        span_id,
        coalesce(response_model, request_model) as model_id,

        -- strings
        {{ llm_provider('provider_name') }} as provider,
        operation_name,
        span_name,
        service_name,
        deployment_environment,
        k8s_namespace_name as k8s_namespace,

        -- numerics
        cast(coalesce(input_tokens, 0) as bigint) as input_tokens,
        cast(coalesce(cached_input_tokens, 0) as bigint) as cached_input_tokens,
        cast(coalesce(input_tokens, 0) - coalesce(cached_input_tokens, 0) as bigint) as uncached_input_tokens,
        cast(coalesce(output_tokens, 0) as bigint) as output_tokens,

        -- booleans
        operation_name in ('embeddings', 'embedding') as is_embedding,

        -- dates (UTC)
        cast(timezone('UTC', span_start_at) as date) as usage_date,

        -- timestamps (UTC)
        span_start_at,
        span_end_at

    from source

)

select * from renamed
