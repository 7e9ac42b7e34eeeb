-- Attribution of token usage: every rule that matches the row's API key,
-- OpenAI project or Anthropic workspace is a candidate; the lowest priority number wins (ties: rule_id).
-- A row no rule matches is attributed to 'unallocated', visibly.
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
        rules.rule_id,
        rules.priority,
        rules.team,
        rules.feature,
        rules.project,
        rules.environment
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

),

ranked as (

    select
        *,
        row_number() over (
            partition by usage_id
            order by priority asc, rule_id asc
        ) as rule_rank
    from candidates

),

best_rule as (

    select * from ranked
    where rule_rank = 1

),

final as (

    select
        usage.*,
        best_rule.rule_id as attribution_rule_id,
        coalesce(best_rule.team, 'unallocated') as team,
        coalesce(best_rule.feature, 'unallocated') as feature,
        coalesce(best_rule.project, usage.project_id) as project,
        best_rule.environment,
        best_rule.rule_id is not null as is_attributed
    from usage
    left join best_rule
        on usage.usage_id = best_rule.usage_id

)

select * from final
