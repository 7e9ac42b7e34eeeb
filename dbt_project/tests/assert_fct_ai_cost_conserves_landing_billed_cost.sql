-- Conservation of cost: every row of int_billed_cost_conservation (each charge
-- day and billing pool, and each day's total against the raw landed sources)
-- agrees to the cent. Returns what disagrees.
select * from {{ ref('int_billed_cost_conservation') }}
where abs(landed_billed_cost - fact_billed_cost) >= 0.005
