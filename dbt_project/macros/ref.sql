{% macro ref() %}
    {#- Views store the SQL they were created with. A ref qualified with the
        warehouse file's catalog ("next"."main"."x") breaks when the
        orchestrator publishes the file under another name (blue/green swap;
        duckdb issue #25603, fixed only after 1.5). Inside one warehouse the
        catalog adds nothing, so refs to it are rendered without it. -#}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- if relation.database is not none and relation.database == target.database -%}
        {%- do return(relation.include(database=false)) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{% endmacro %}
