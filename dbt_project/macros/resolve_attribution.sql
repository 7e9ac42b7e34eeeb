{% macro resolve_attribution(candidates, row_id) -%}
    {#- Attribution rules are virtual tags. `candidates` holds one row per
        (row, matching rule) with the rule's rule_id, priority, team, feature,
        project and environment. Each attribute takes its value from the
        best-ranked matching rule that sets it (lowest priority number, ties on
        rule_id), so a rule on a LiteLLM tag "env:staging" can set only the
        environment while a team_id rule sets the team. attribution_rule_id is
        the rule that gave the team. One row per `row_id`. -#}
    select
        {{ row_id }},
        arg_min(rule_id, rank_key) filter (where team is not null) as attribution_rule_id,
        {%- for attribute in ['team', 'feature', 'project', 'environment'] %}
        arg_min({{ attribute }}, rank_key) filter (where {{ attribute }} is not null) as {{ attribute }}{{ "," if not loop.last }}
        {%- endfor %}
    from (
        select
            *,
            lpad(cast(priority as varchar), 10, '0') || '|' || rule_id as rank_key
        from {{ candidates }}
    ) as ranked_candidates
    group by {{ row_id }}
{%- endmacro %}
