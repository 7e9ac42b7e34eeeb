-- Each fx rate applies from its rate_date until the next rate of the same pair.
with

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

ranged as (

    select
        from_currency,
        to_currency,
        rate,
        rate_date as valid_from,
        lead(rate_date) over (
            partition by from_currency, to_currency
            order by rate_date
        ) as valid_to
    from fx_rates

)

select * from ranged
