-- One row per request through the LiteLLM proxy. prompt_tokens INCLUDES the
-- cached prompt tokens (OpenAI semantics); the uncached part is derived here
-- once. A request LiteLLM answered from its own cache never reached a
-- provider (spend 0), so it is flagged, not priced.
with

source as (

    select * from {{ source('litellm', 'spend_logs') }}

),

renamed as (

    select
        -- ids
        source_name || ':' || request_id as spend_log_id,
        source_name,
        record_ref,
        request_id,
        api_key_id,
        model_id as deployment_id,
        model as model_id,
        user_id,
        team_id,
        end_user_id,

        -- strings
        {{ llm_provider('custom_llm_provider') }} as provider,
        model_group,
        call_type,
        lower(status) as status,
        coalesce(request_tags, '[]') as request_tags_json,
        upper(currency) as currency,

        -- numerics
        cast(prompt_tokens as bigint) as input_tokens,
        cast(coalesce(cached_prompt_tokens, 0) as bigint) as cached_input_tokens,
        cast(prompt_tokens - coalesce(cached_prompt_tokens, 0) as bigint) as uncached_input_tokens,
        cast(completion_tokens as bigint) as output_tokens,
        cast(spend as decimal(38, 12)) as spend,

        -- booleans
        coalesce(is_cache_hit, false) as is_proxy_cache_hit,
        coalesce(lower(status) = 'failure', false) as is_failed,
        call_type in ('embedding', 'aembedding') as is_embedding,

        -- dates (UTC)
        cast(timezone('UTC', started_at) as date) as usage_date,

        -- timestamps (UTC)
        started_at,
        ended_at

    from source

)

select * from renamed
