-- One row per day, the spine MetricFlow joins time-based metrics to. Fixed
-- bounds, never the clock: wide enough for any charge date the fact can hold.
{{ config(materialized='table') }}

with

days as (

    select cast(range as date) as date_day
    from range(date '2020-01-01', date '2036-01-01', interval 1 day)

),

final as (

    select date_day from days

)

select * from final
