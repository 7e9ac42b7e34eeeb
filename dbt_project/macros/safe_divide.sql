{% macro safe_divide(numerator, denominator) -%}
    {#- Division by zero gives null, never an error. -#}
    (cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0))
{%- endmacro %}
