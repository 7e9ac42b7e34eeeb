-- The alert_routes seed, checked: a route for an unknown team, a team routed
-- twice, or a route with neither an email nor a webhook stops the build with
-- an error naming the seed row. Team '*' is the catch-all (every alert).
with

routes as (

    select * from {{ ref('alert_routes') }}

),

checked as (

    select
        routes.*,
        case
            when routes.team is null
                then 'team is empty (use * for every team)'
            when routes.team != '*' and routes.team not in (select known.team from {{ ref("teams") }} as known)
                then 'unknown team ' || routes.team || ' (not in the teams seed)'
            when count(*) over (partition by routes.team) > 1
                then 'team ' || routes.team || ' is routed twice'
            when routes.email is null and routes.webhook_conn_id is null
                then 'neither an email nor a webhook_conn_id'
        end as problem
    from routes

),

final as (

    select
        team,
        email,
        webhook_conn_id,
        case
            when problem is not null
                then error('alert_routes seed, row team=' || coalesce(team, '<empty>') || ': ' || problem)
        end as route_problem
    from checked

)

select * exclude (route_problem) from final
where route_problem is null
