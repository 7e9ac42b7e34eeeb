-- The fixed split of shared cost must hand out exactly all of it: its
-- percentages sum to 100 (to 1/10000 of a percent), and none is negative.
-- Returns a row when they do not.
with

shared_cost_split as (

    select * from {{ ref('shared_cost_split') }}

),

totals as (

    select
        coalesce(sum(split_pct), 0) as total_pct,
        coalesce(min(split_pct), 0) as min_pct,
        count(*) as n_teams
    from shared_cost_split

)

select *
from totals
where n_teams > 0 and (abs(total_pct - 100) > 0.0001 or min_pct < 0)
