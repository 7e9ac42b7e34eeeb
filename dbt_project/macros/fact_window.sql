{% macro fact_window() -%}
    {#- The charge days an incremental run of the fact rebuilds:
        [start_date - lookback_days, end_date), from the vars the orchestrator
        passes (warehouse/build.py). Providers restate recent days, so the
        lookback re-reads them. Returns none when no start_date is given: the
        run then rebuilds every landed day. -#}
    {%- set start = var('start_date', none) -%}
    {%- if start is none or start == '' -%}
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
