{#-
    One SQL definition per ratio metric of the semantic layer
    (models/semantic/_semantic__metrics.yml). Every mart column that carries a
    metric's label calls its macro, and tests/dbt/test_semantic_layer.py checks
    each such column against `mf query` at the mart's grain, so a mart cannot
    drift from the formula MetricFlow runs. Arguments are SUMMED measures of the
    mart's grain; a zero denominator gives null.
-#}

{% macro metric_cost_per_1k_tokens(token_cost, tokens) -%}
    {{ safe_divide(token_cost ~ ' * 1000', tokens) }}
{%- endmacro %}

{% macro metric_cost_per_request(token_cost, requests) -%}
    {{ safe_divide(token_cost, requests) }}
{%- endmacro %}

{% macro metric_cache_hit_rate(cached_input_tokens, input_tokens) -%}
    {{ safe_divide(cached_input_tokens, input_tokens) }}
{%- endmacro %}

{% macro metric_gpu_utilisation(gpu_hours_busy, gpu_hours_paid) -%}
    {#- Of the GPU-hours charged (busy plus idle share), the share that did work. -#}
    {{ safe_divide(gpu_hours_busy, gpu_hours_paid) }}
{%- endmacro %}

{% macro metric_feature_roi(credited_value, cost) -%}
    {#- The value is what AI is CREDITED with (feature_catalogue value_method), never all revenue. -#}
    {{ safe_divide('(' ~ credited_value ~ ') - (' ~ cost ~ ')', cost) }}
{%- endmacro %}

{% macro metric_budget_burn(cost, budget) -%}
    {{ safe_divide(cost, budget) }}
{%- endmacro %}

{% macro efficiency_model_id(model_id, sku_id) -%}
    {#- The engineering mart's model key: GPU rows have no model, so 'gpu:<sku>'.
        The semantic dimension ai_cost.efficiency_model_id repeats this expression
        (YAML cannot call a macro); the mf tests fail if the two ever differ. -#}
    coalesce({{ model_id }}, 'gpu:' || coalesce({{ sku_id }}, 'unknown'))
{%- endmacro %}
