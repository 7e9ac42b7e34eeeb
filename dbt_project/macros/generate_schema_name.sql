{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- A custom schema is used as named ("staging", "intermediate"), not
        prefixed with the target schema: publishing drops exactly the build-only
        schemas it knows (warehouse.pipeline.BUILD_ONLY_SCHEMAS). -#}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
