{% macro strategy_var(name, allowed) -%}
    {#- A var that picks an allocation strategy: its value, or a compile error
        naming the allowed ones, so a typo never silently picks a default. -#}
    {%- set value = var(name) -%}
    {%- if value not in allowed -%}
        {{ exceptions.raise_compiler_error(
            name ~ " must be " ~ allowed | join(", ") ~ ", got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {%- do return(value) -%}
{%- endmacro %}
