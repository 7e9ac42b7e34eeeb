{% macro llm_pool_matches(pools, usage) -%}
    {#- A provider usage row belongs to the pool of its provider, project or
        workspace, day and model (the key the providers' bills carry). -#}
    {{ pools }}.provider = {{ usage }}.provider
    and {{ pools }}.project_id = {{ usage }}.project_id
    and {{ pools }}.charge_date = {{ usage }}.usage_date
    and coalesce({{ pools }}.model_id, 'no_model') = coalesce({{ usage }}.model_id, 'no_model')
{%- endmacro %}

{% macro llm_gateway_matches(pools, usage) -%}
    {#- A gateway row (LiteLLM, OTel) carries no provider project: it belongs
        to every pool of its provider, day and model (weighted, ADR 0004). -#}
    {{ pools }}.provider = {{ usage }}.provider
    and {{ pools }}.charge_date = {{ usage }}.usage_date
    and coalesce({{ pools }}.model_id, 'no_model') = coalesce({{ usage }}.model_id, 'no_model')
{%- endmacro %}
