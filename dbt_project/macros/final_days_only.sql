{% macro final_days_only(relation, date_column) -%}
    {#- The rows of `relation` on final days only (ops_day_status): the role
        marts read the fact and the value source through this, so a
        provisional day (billing landed, a driver missing) is never told to a
        reader as if it were complete. The fact itself keeps every day. -#}
    (
        select * from {{ relation }}
        where {{ date_column }} in (
            select final_days.landing_date
            from {{ ref('ops_day_status') }} as final_days
            where final_days.is_final_day
        )
    )
{%- endmacro %}
