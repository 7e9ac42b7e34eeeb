{% macro surrogate_key(columns) -%}
    {#- A stable string key for a grain; nulls hash as a marker, not as '' so
        (null, 'a') and ('', 'a') stay distinct. -#}
    md5(concat_ws('|'
    {%- for column in columns %},
        coalesce(cast({{ column }} as varchar), '<null>')
    {%- endfor %}
    ))
{%- endmacro %}
