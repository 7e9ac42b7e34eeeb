-- The fact on its final days: what the semantic layer measures. The role
-- marts read the fact through the same macro, so a metric queried with
-- `mf query` and the mart column carrying its label count the same days; a
-- provisional day (ops_day_status) is in fct_ai_cost only.
select * from {{ final_days_only(ref('fct_ai_cost'), 'charge_date') }}
