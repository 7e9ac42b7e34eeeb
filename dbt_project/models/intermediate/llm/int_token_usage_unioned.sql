-- Every token usage driver in one shape, each row as its source saw it.
-- Sources:
--   1. the providers' own usage reports (OpenAI Usage API, Anthropic usage
--      report): they carry the project / workspace the bills are keyed by;
--   2. LiteLLM SpendLogs, one row per proxied request: team, hashed virtual
--      key, user, end user and request tags of each call;
--   3. OpenTelemetry GenAI spans.
-- Gateway rows (LiteLLM, OTel) of a provider whose bill is pulled see the
-- same calls as that provider's usage report. They are kept here; which of
-- the two drives a pool, and for how many of its tokens, is decided once in
-- int_llm_cost_allocated (ADR 0004), so no call is ever counted twice.
-- OTel spans of a provider and day that LiteLLM also logged are the same
-- calls seen twice (the app called the proxy), so LiteLLM wins that day.
-- LiteLLM and OTel rows are summed per day and attribution key: a day can
-- hold millions of requests.
with

openai_usage as (

    select * from {{ ref('stg_openai__usage') }}

),

anthropic_usage as (

    select * from {{ ref('stg_anthropic__usage') }}

),

litellm_requests as (

    select * from {{ ref('stg_litellm__spend_logs') }}

),

otel_spans as (

    select * from {{ ref('stg_otel__genai_spans') }}

),

litellm_days as (

    select distinct
        provider,
        usage_date
    from litellm_requests

),

litellm_usage as (

    select
        {{ surrogate_key([
            "'litellm'", 'source_name', 'usage_date', 'provider', 'model_id', 'api_key_id', 'user_id',
            'end_user_id', 'team_id', 'request_tags_json', 'is_embedding', 'is_proxy_cache_hit or is_failed',
        ]) }} as usage_id,
        source_name,
        provider,
        model_id,
        api_key_id,
        user_id,
        end_user_id,
        team_id,
        request_tags_json,
        is_embedding,
        -- No provider call (proxy cache hit) or a failed one: no cost to estimate.
        is_proxy_cache_hit or is_failed as is_not_charged,
        usage_date,
        max(currency) as reported_currency,
        sum(input_tokens) as input_tokens,
        sum(uncached_input_tokens) as uncached_input_tokens,
        sum(cached_input_tokens) as cached_input_tokens,
        sum(output_tokens) as output_tokens,
        count(*) as requests,
        sum(spend) as reported_cost
    from litellm_requests
    group by all

),

otel_usage as (

    select
        {{ surrogate_key([
            "'otel'", 'otel_spans.source_name', 'otel_spans.usage_date', 'otel_spans.provider',
            'otel_spans.model_id', 'otel_spans.service_name', 'otel_spans.k8s_namespace',
            'otel_spans.is_embedding',
        ]) }} as usage_id,
        otel_spans.source_name,
        otel_spans.provider,
        otel_spans.model_id,
        otel_spans.service_name,
        otel_spans.k8s_namespace,
        otel_spans.is_embedding,
        otel_spans.usage_date,
        sum(otel_spans.input_tokens) as input_tokens,
        sum(otel_spans.uncached_input_tokens) as uncached_input_tokens,
        sum(otel_spans.cached_input_tokens) as cached_input_tokens,
        sum(otel_spans.output_tokens) as output_tokens,
        count(*) as requests
    from otel_spans
    where
        not exists (
            select 1 as is_match
            from litellm_days
            where
                litellm_days.provider = otel_spans.provider
                and litellm_days.usage_date = otel_spans.usage_date
        )
    group by all

),

unioned as (

    select
        usage_id,
        'openai_usage' as usage_source,
        'openai' as provider,
        source_name,
        project_id,
        api_key_id,
        user_id,
        cast(null as varchar) as end_user_id,
        cast(null as varchar) as team_id,
        cast(null as varchar) as request_tags_json,
        cast(null as varchar) as service_name,
        cast(null as varchar) as k8s_namespace,
        model_id,
        endpoint,
        input_tokens,
        uncached_input_tokens,
        cached_input_tokens,
        cast(0 as bigint) as cache_write_5m_tokens,
        cast(0 as bigint) as cache_write_1h_tokens,
        output_tokens,
        requests,
        is_batch,
        false as is_not_charged,
        cast(null as decimal(38, 12)) as reported_cost,
        cast(null as varchar) as reported_currency,
        usage_date
    from openai_usage

    union all

    select
        usage_id,
        'anthropic_usage' as usage_source,
        'anthropic' as provider,
        source_name,
        workspace_id as project_id,
        api_key_id,
        cast(null as varchar) as user_id,
        cast(null as varchar) as end_user_id,
        cast(null as varchar) as team_id,
        cast(null as varchar) as request_tags_json,
        cast(null as varchar) as service_name,
        cast(null as varchar) as k8s_namespace,
        model_id,
        'messages' as endpoint,
        input_tokens,
        uncached_input_tokens,
        cached_input_tokens,
        cache_write_5m_tokens,
        cache_write_1h_tokens,
        output_tokens,
        -- The usage report has no request count.
        cast(null as bigint) as requests,
        is_batch,
        false as is_not_charged,
        cast(null as decimal(38, 12)) as reported_cost,
        cast(null as varchar) as reported_currency,
        usage_date
    from anthropic_usage

    union all

    select
        usage_id,
        'litellm' as usage_source,
        provider,
        source_name,
        cast(null as varchar) as project_id,
        api_key_id,
        user_id,
        end_user_id,
        team_id,
        request_tags_json,
        cast(null as varchar) as service_name,
        cast(null as varchar) as k8s_namespace,
        model_id,
        case when is_embedding then 'embeddings' else 'completions' end as endpoint,
        cast(input_tokens as bigint) as input_tokens,
        cast(uncached_input_tokens as bigint) as uncached_input_tokens,
        cast(cached_input_tokens as bigint) as cached_input_tokens,
        cast(0 as bigint) as cache_write_5m_tokens,
        cast(0 as bigint) as cache_write_1h_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(requests as bigint) as requests,
        false as is_batch,
        is_not_charged,
        cast(reported_cost as decimal(38, 12)) as reported_cost,
        reported_currency,
        usage_date
    from litellm_usage

    union all

    select
        usage_id,
        'otel' as usage_source,
        provider,
        source_name,
        cast(null as varchar) as project_id,
        cast(null as varchar) as api_key_id,
        cast(null as varchar) as user_id,
        cast(null as varchar) as end_user_id,
        cast(null as varchar) as team_id,
        cast(null as varchar) as request_tags_json,
        service_name,
        k8s_namespace,
        model_id,
        case when is_embedding then 'embeddings' else 'completions' end as endpoint,
        cast(input_tokens as bigint) as input_tokens,
        cast(uncached_input_tokens as bigint) as uncached_input_tokens,
        cast(cached_input_tokens as bigint) as cached_input_tokens,
        cast(0 as bigint) as cache_write_5m_tokens,
        cast(0 as bigint) as cache_write_1h_tokens,
        cast(output_tokens as bigint) as output_tokens,
        cast(requests as bigint) as requests,
        false as is_batch,
        false as is_not_charged,
        cast(null as decimal(38, 12)) as reported_cost,
        cast(null as varchar) as reported_currency,
        usage_date
    from otel_usage

)

select * from unioned
