{#-
    The fx rate of an amount to the reporting currency (var reporting_currency), written
    once: the rate in force on the amount's day, 1 for the reporting currency itself,
    null when no rate covers the day (the models' tests catch that). Both macros need a
    CTE named `fx` over ref('int_fx_rates_ranged') in the calling model.
-#}

{% macro rate_to_reporting(currency) -%}
    case
        when {{ currency }} = '{{ var("reporting_currency") }}' then 1.0
        else cast(fx.rate as double)
    end
{%- endmacro %}

{% macro join_rate_to_reporting(currency, on_date) -%}
    left join fx
        on
            {{ currency }} = fx.from_currency
            and fx.to_currency = '{{ var("reporting_currency") }}'
            and {{ on_date }} >= fx.valid_from
            and (fx.valid_to is null or {{ on_date }} < fx.valid_to)
{%- endmacro %}
