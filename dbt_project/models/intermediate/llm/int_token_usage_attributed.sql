-- Attribution of token usage by the attribution_rules seed (virtual tags).
-- A rule matches a usage row on one dimension:
--   api_key_id              the provider's key id, or LiteLLM's hashed virtual key
--   openai_project_id       OpenAI project
--   anthropic_workspace_id  Anthropic workspace
--   litellm_team_id         LiteLLM team of the virtual key
--   litellm_request_tag     one element of LiteLLM request_tags, e.g. feature:x, env:y
--   k8s_namespace           OTel resource k8s.namespace.name
--   otel_service_name       OTel resource service.name
-- Each attribute takes the value of the best matching rule that sets it
-- (macro resolve_attribution). A row no rule gives a team is attributed to
-- 'unallocated', visibly.
with

usage as (

    select * from {{ ref('int_token_usage_priced') }}

),

rules as (

    select * from {{ ref('attribution_rules') }}

),

candidates as (

    select
        usage.usage_id,
        {{ attribution_rule_columns('rules') }}
    from usage
    inner join rules
        on
            (rules.match_dimension = 'api_key_id' and usage.api_key_id = rules.match_value)
            or (
                rules.match_dimension = 'openai_project_id'
                and usage.provider = 'openai'
                and usage.project_id = rules.match_value
            )
            or (
                rules.match_dimension = 'anthropic_workspace_id'
                and usage.provider = 'anthropic'
                and usage.project_id = rules.match_value
            )
            or (rules.match_dimension = 'litellm_team_id' and usage.team_id = rules.match_value)
            or (
                rules.match_dimension = 'litellm_request_tag'
                and list_contains(json_extract_string(usage.request_tags_json, '$[*]'), rules.match_value)
            )
            or (rules.match_dimension = 'k8s_namespace' and usage.k8s_namespace = rules.match_value)
            or (rules.match_dimension = 'otel_service_name' and usage.service_name = rules.match_value)

),

resolved as (

    {{ resolve_attribution('candidates', 'usage_id') }}

),

final as (

    select
        usage.*,
        {{ attributed_columns('resolved', project_fallback='usage.project_id') }}
    from usage
    left join resolved
        on usage.usage_id = resolved.usage_id

)

select * from final
