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

{#- The one shape: each column and what a source that lacks it gives (every
    source has usage_date, the last). A branch below names only what its source
    gives differently. #}
{%- set usage_columns = {
    'usage_id': 'usage_id',
    'usage_source': none,
    'provider': 'provider',
    'source_name': 'source_name',
    'project_id': 'cast(null as varchar)',
    'api_key_id': 'cast(null as varchar)',
    'user_id': 'cast(null as varchar)',
    'end_user_id': 'cast(null as varchar)',
    'team_id': 'cast(null as varchar)',
    'request_tags_json': 'cast(null as varchar)',
    'service_name': 'cast(null as varchar)',
    'k8s_namespace': 'cast(null as varchar)',
    'model_id': 'model_id',
    'endpoint': "case when is_embedding then 'embeddings' else 'completions' end",
    'input_tokens': 'cast(input_tokens as bigint)',
    'uncached_input_tokens': 'cast(uncached_input_tokens as bigint)',
    'cached_input_tokens': 'cast(cached_input_tokens as bigint)',
    'cache_write_5m_tokens': 'cast(0 as bigint)',
    'cache_write_1h_tokens': 'cast(0 as bigint)',
    'output_tokens': 'cast(output_tokens as bigint)',
    'requests': 'cast(requests as bigint)',
    'is_batch': 'false',
    'is_not_charged': 'false',
    'reported_cost': 'cast(null as decimal(38, 12))',
    'reported_currency': 'cast(null as varchar)',
} %}
{%- set provider_report = {
    'input_tokens': 'input_tokens',
    'uncached_input_tokens': 'uncached_input_tokens',
    'cached_input_tokens': 'cached_input_tokens',
    'output_tokens': 'output_tokens',
    'is_batch': 'is_batch',
} %}
{%- set branches = [
    ('openai_usage', dict(provider_report, **{
        'usage_source': "'openai_usage'",
        'provider': "'openai'",
        'project_id': 'project_id',
        'api_key_id': 'api_key_id',
        'user_id': 'user_id',
        'endpoint': 'endpoint',
        'requests': 'requests',
    })),
    ('anthropic_usage', dict(provider_report, **{
        'usage_source': "'anthropic_usage'",
        'provider': "'anthropic'",
        'project_id': 'workspace_id',
        'api_key_id': 'api_key_id',
        'endpoint': "'messages'",
        'cache_write_5m_tokens': 'cache_write_5m_tokens',
        'cache_write_1h_tokens': 'cache_write_1h_tokens',
        'requests': 'cast(null as bigint)',
    })),
    ('litellm_usage', {
        'usage_source': "'litellm'",
        'api_key_id': 'api_key_id',
        'user_id': 'user_id',
        'end_user_id': 'end_user_id',
        'team_id': 'team_id',
        'request_tags_json': 'request_tags_json',
        'is_not_charged': 'is_not_charged',
        'reported_cost': 'cast(reported_cost as decimal(38, 12))',
        'reported_currency': 'reported_currency',
    }),
    ('otel_usage', {
        'usage_source': "'otel'",
        'service_name': 'service_name',
        'k8s_namespace': 'k8s_namespace',
    }),
] %}
{#- The Anthropic usage report has no request count. #}

unioned as (
    {%- for relation, given in branches %}

    select
        {%- for column, default in usage_columns.items() %}
        {%- set expression = given.get(column, default) %}
        {{ expression }}{% if expression != column %} as {{ column }}{% endif %},
        {%- endfor %}
        usage_date
    from {{ relation }}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

)

select * from unioned
