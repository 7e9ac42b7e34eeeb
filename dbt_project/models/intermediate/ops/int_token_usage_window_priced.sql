-- Token usage of the recommendation window per day x team x feature x
-- environment x model x workload type, with the price book's prices of the
-- model and of its smaller model (recommendation_rules), converted to the
-- reporting currency on the day. Batch-tier rows (workload_type 'batch') are
-- priced at the batch discount, as the providers bill them.
with

fact as (

    select * from {{ ref('fct_ai_cost') }}

),

window_days as (

    select * from {{ ref('int_recommendation_window_days') }}

),

price_book as (

    select * from {{ ref('price_book') }}

),

fx as (

    select * from {{ ref('int_fx_rates_ranged') }}

),

recommendation_rules as (

    select * from {{ ref('recommendation_rules') }}

),

smaller_models as (

    select
        recommendation_rules.model_id,
        recommendation_rules.smaller_model_id
    from recommendation_rules
    where recommendation_rules.parameter = 'smaller_model'

),

usage as (

    select
        fact.charge_date,
        fact.team,
        fact.feature,
        fact.environment,
        fact.model_id,
        fact.workload_type,
        fact.reporting_currency,
        sum(fact.effective_cost_reporting) as cost_reporting,
        sum(fact.input_tokens) as input_tokens,
        sum(fact.cached_input_tokens) as cached_input_tokens,
        sum(fact.output_tokens) as output_tokens,
        sum(fact.requests) as requests
    from fact
    inner join window_days on fact.charge_date = window_days.charge_date
    where fact.cost_type = 'tokens' and fact.model_id is not null
    group by all

),

fx_rates as (

    -- Rates to the reporting currency; the reporting currency itself at 1.
    select
        '{{ var("reporting_currency") }}' as from_currency,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        cast(1 as decimal(18, 6)) as rate
    union all
    select
        fx.from_currency,
        fx.valid_from,
        fx.valid_to,
        cast(fx.rate as decimal(18, 6)) as rate
    from fx
    where
        fx.to_currency = '{{ var("reporting_currency") }}'
        and fx.from_currency != '{{ var("reporting_currency") }}'

),

prices_reporting as (

    -- One row per price-book row and day of the window, in the reporting currency.
    select
        window_days.charge_date,
        price_book.model_id,
        price_book.batch_discount,
        price_book.input_price_per_1m * fx_rate.rate as input_price_per_1m,
        price_book.cached_input_price_per_1m * fx_rate.rate as cached_input_price_per_1m,
        price_book.output_price_per_1m * fx_rate.rate as output_price_per_1m
    from price_book
    inner join window_days
        on
            price_book.effective_from <= window_days.charge_date
            and (price_book.effective_to is null or price_book.effective_to > window_days.charge_date)
    inner join fx_rates as fx_rate
        on
            price_book.currency = fx_rate.from_currency
            and (fx_rate.valid_from is null or window_days.charge_date >= fx_rate.valid_from)
            and (fx_rate.valid_to is null or window_days.charge_date < fx_rate.valid_to)

),

priced as (

    select
        usage.charge_date,
        usage.team,
        usage.feature,
        usage.environment,
        usage.model_id,
        smaller_models.smaller_model_id,
        usage.workload_type,
        usage.reporting_currency,
        usage.cost_reporting,
        usage.input_tokens,
        usage.cached_input_tokens,
        usage.output_tokens,
        usage.requests,
        model_price.batch_discount,
        -- What the batch tier pays per list-priced unit on this row.
        case
            when usage.workload_type = 'batch' then model_price.batch_discount else 1
        end as tier_price_factor,
        model_price.input_price_per_1m,
        model_price.cached_input_price_per_1m,
        model_price.output_price_per_1m,
        (
            (usage.input_tokens - usage.cached_input_tokens) * smaller_price.input_price_per_1m
            + usage.cached_input_tokens * smaller_price.cached_input_price_per_1m
            + usage.output_tokens * smaller_price.output_price_per_1m
        ) / 1000000
        * case
            when usage.workload_type = 'batch' then smaller_price.batch_discount else 1
        end as cost_on_smaller_model_reporting
    from usage
    left join prices_reporting as model_price
        on
            usage.model_id = model_price.model_id
            and usage.charge_date = model_price.charge_date
    left join smaller_models on usage.model_id = smaller_models.model_id
    left join prices_reporting as smaller_price
        on
            smaller_models.smaller_model_id = smaller_price.model_id
            and usage.charge_date = smaller_price.charge_date

)

select * from priced
