{% macro fact_window() -%}
    {#- The charge days an incremental run of the fact rebuilds:
        [start_date - lookback_days, end_date), from the vars the orchestrator
        passes (warehouse/build.py). Providers restate recent days, so the
        lookback re-reads them. Returns none when no start_date is given, or
        when the existing fact lacks a column of its contract (see
        migrate_fact_schema): the run then rebuilds every landed day. -#}
    {%- set start = var('start_date', none) -%}
    {%- if start is none or start == '' or fact_missing_columns() -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set end = var('end_date', none) -%}
    {%- if end is none or end == '' -%}
        {{ exceptions.raise_compiler_error("fct_ai_cost: var start_date is set but end_date is not") }}
    {%- endif -%}
    {%- set lookback = var('lookback_days', 3) | int -%}
    {%- if lookback < 0 -%}
        {{ exceptions.raise_compiler_error("lookback_days must be >= 0, got " ~ lookback) }}
    {%- endif -%}
    {%- set start_day = modules.datetime.date.fromisoformat(start | string) - modules.datetime.timedelta(days=lookback) -%}
    {%- set end_day = modules.datetime.date.fromisoformat(end | string) -%}
    {%- if end_day <= start_day -%}
        {{ exceptions.raise_compiler_error("fct_ai_cost: empty window [" ~ start_day ~ ", " ~ end_day ~ ")") }}
    {%- endif -%}
    {%- do return({'start': start_day.isoformat(), 'end': end_day.isoformat()}) -%}
{%- endmacro %}


{% macro fact_window_filter(column) -%}
    {%- set window = fact_window() -%}
    {%- if window is none -%}
        true
    {%- else -%}
        {{ column }} >= date '{{ window.start }}' and {{ column }} < date '{{ window.end }}'
    {%- endif -%}
{%- endmacro %}


{% macro delete_fact_window() -%}
    {#- pre_hook of the fact: inside the build's transaction, remove the days
        this run rebuilds, so a restated day is replaced, never added twice. -#}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ fact_window_filter('charge_date') }}
    {%- endif -%}
{%- endmacro %}


{% macro fact_missing_columns() -%}
    {#- The contract columns the fact in the warehouse lacks: the file was
        published before they were added. Empty outside an incremental run. -#}
    {%- if not execute or not is_incremental() -%}
        {%- do return([]) -%}
    {%- endif -%}
    {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- set missing = [] -%}
    {%- for column in model.columns if column | lower not in existing -%}
        {%- do missing.append(column) -%}
    {%- endfor -%}
    {%- do return(missing) -%}
{%- endmacro %}


{% macro migrate_fact_schema() -%}
    {#- pre_hook of the fact, before its transaction: when the published fact
        lacks columns the model now has, add them and empty the table, and the
        run (whose SQL was rendered while they were missing, so fact_window is
        none) appends every landed day with the new columns filled.
        on_schema_change='append_new_columns' alone is not enough: it would
        fill the new columns only for the window's days and leave older rows
        null, and on DuckDB its ALTER conflicts with the in-transaction delete
        of delete_fact_window ("another transaction has altered this table"). -#}
    {%- set missing = fact_missing_columns() -%}
    {%- if missing -%}
        {{ log(this ~ " lacks " ~ missing | join(", ") ~ ": adding them and rebuilding every landed day", info=true) }}
        {%- for column in missing %}
    alter table {{ this }} add column {{ column }} {{ model.columns[column].data_type }};
        {%- endfor %}
    delete from {{ this }};
    {%- endif -%}
{%- endmacro %}
