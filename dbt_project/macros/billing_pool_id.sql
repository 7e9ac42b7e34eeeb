{% macro focus_line_pool_id(focus_line_id, charge_date) -%}
    {#- The billing pool of one FOCUS line that is not part of a GPU node-day:
        'focus:line:<source>:<record_ref>:<date>'. Defined once: the cloud
        allocation, the FOCUS view's line lookup and the conservation model
        must spell it alike. -#}
    'focus:line:' || {{ focus_line_id }} || ':' || cast({{ charge_date }} as varchar)
{%- endmacro %}


{% macro gpu_node_pool_id(hostname, charge_date) -%}
    {#- The billing pool of a GPU node-day: every Usage-like FOCUS line of the
        node that day, 'focus:gpu:<node>:<date>'. -#}
    'focus:gpu:' || {{ hostname }} || ':' || cast({{ charge_date }} as varchar)
{%- endmacro %}


{% macro llm_pool_id(kind, key, day, model_id) -%}
    {#- The billing pool of LLM spend: '<kind>:<key>:<date>:<model>', where kind
        is '<provider>_costs' for a bill (key: the project or workspace it is
        keyed by), '<provider>_usage' for provider usage no bill covers, and
        '<gateway>_usage' for gateway usage (key: the provider). A missing model
        is 'no_model'. -#}
    {{ kind }} || ':' || {{ key }} || ':' || cast({{ day }} as varchar) || ':'
    || coalesce({{ model_id }}, 'no_model')
{%- endmacro %}
