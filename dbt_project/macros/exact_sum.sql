{#-
    Sum a double-valued expression exactly, so the result does not depend on the
    order DuckDB's threads add the rows in (float addition is not associative:
    two identical runs differed at the 12th decimal). Each value is rounded once
    to `scale` decimals (1e-12 of a GPU-hour or a dollar, far below what is
    published), then summed as a DECIMAL, which is exact. Works as a window
    aggregate too: `{{ exact_sum('x') }} over (...)`. Money that is already a
    DECIMAL needs no macro: sum it as it is, never through a double.
-#}
{% macro exact_sum(expression, scale=12) -%}
    sum(cast({{ expression }} as decimal(38, {{ scale }})))
{%- endmacro %}
