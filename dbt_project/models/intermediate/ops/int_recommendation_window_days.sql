-- The trailing window recommendations judge: the last `window_days` final
-- days (recommendation_rules). Provisional days are left out, so a day whose
-- usage has not fully landed never reads as a saving.
with

day_status as (

    select * from {{ ref('ops_day_status') }}

),

recommendation_rules as (

    select * from {{ ref('recommendation_rules') }}

),

final_days as (

    select distinct day_status.landing_date as charge_date
    from day_status
    where day_status.is_final_day

),

window_size as (

    select cast(recommendation_rules.value as integer) as window_days
    from recommendation_rules
    where recommendation_rules.parameter = 'window_days'

),

ranked as (

    select
        final_days.charge_date,
        row_number() over (
            order by final_days.charge_date desc
        ) as day_rank
    from final_days

),

in_window as (

    select ranked.charge_date
    from ranked
    cross join window_size
    where ranked.day_rank <= window_size.window_days

),

final as (

    select
        charge_date,
        min(charge_date) over () as window_start,
        max(charge_date) over () as window_end,
        count(*) over () as window_days
    from in_window

)

select * from final
