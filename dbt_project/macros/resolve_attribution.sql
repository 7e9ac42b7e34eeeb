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

{% macro attributed_columns(resolved, project_fallback=none) -%}
    {#- A usage row's attribution as resolve_attribution resolved it: a row no
        rule gives a team or feature is 'unallocated', never dropped, and
        is_attributed says whether a rule gave the team. -#}
    {{ resolved }}.attribution_rule_id,
        coalesce({{ resolved }}.team, 'unallocated') as team,
        coalesce({{ resolved }}.feature, 'unallocated') as feature,
        {% if project_fallback -%}
        coalesce({{ resolved }}.project, {{ project_fallback }}) as project,
        {%- else -%}
        {{ resolved }}.project,
        {%- endif %}
        {{ resolved }}.environment,
        {{ resolved }}.team is not null as is_attributed
{%- endmacro %}

{% macro attribution_rule_columns(rules) -%}
    {#- What resolve_attribution reads of each matching rule in `candidates`. -#}
    {{ rules }}.rule_id,
        {{ rules }}.priority,
        {{ rules }}.team,
        {{ rules }}.feature,
        {{ rules }}.project,
        {{ rules }}.environment
{%- endmacro %}
