-- Token usage of every LLM provider in one shape, priced with the price book
-- row in force on its usage day (UTC): a price change applies from its
-- effective_from and never reprices history. input_tokens always INCLUDES
-- cached and cache-write tokens; each class is priced at its own price
-- (uncached input, cached input, 5-minute and 1-hour cache writes, output).
-- Batch usage takes the batch discount off every class.
-- Usage the price book cannot price keeps estimated_cost null (is_priced
-- false, visible), except LiteLLM traffic, which falls back to LiteLLM's own
-- spend (estimate_source 'reported'). Requests LiteLLM answered from its cache
-- or that failed reached no provider and are estimated at 0.
with

usage as (

    select * from {{ ref('int_token_usage_unioned') }}

),

price_book as (

    select * from {{ ref('price_book') }}

),

priced as (

    select
        usage.*,
        price_book.price_version,
        price_book.model_family,
        coalesce(price_book.currency, usage.reported_currency) as price_currency,
        case
            when usage.is_batch then 'batch'
            when price_book.workload_type is not null then price_book.workload_type
            when usage.endpoint = 'embeddings' then 'embedding'
            else 'inference'
        end as workload_type,
        case
            when usage.is_batch then 1 - cast(price_book.batch_discount as double)
            else 1.0
        end as price_multiplier,
        cast(price_book.input_price_per_1m as double) as input_price_per_1m,
        cast(price_book.cached_input_price_per_1m as double) as cached_input_price_per_1m,
        -- A cache write without its own price costs what uncached input costs.
        cast(coalesce(
            price_book.cache_write_5m_price_per_1m, price_book.input_price_per_1m
        ) as double) as cache_write_5m_price_per_1m,
        cast(coalesce(
            price_book.cache_write_1h_price_per_1m, price_book.input_price_per_1m
        ) as double) as cache_write_1h_price_per_1m,
        cast(price_book.output_price_per_1m as double) as output_price_per_1m,
        price_book.price_version is not null as is_priced
    from usage
    left join price_book
        on
            usage.provider = price_book.provider
            and usage.model_id = price_book.model_id
            and usage.usage_date >= price_book.effective_from
            and (price_book.effective_to is null or usage.usage_date < price_book.effective_to)

),

costed as (

    select
        *,
        cast(
            uncached_input_tokens * input_price_per_1m / 1e6 * price_multiplier
            as decimal(38, 12)
        ) as estimated_input_cost,
        cast(
            cached_input_tokens * cached_input_price_per_1m / 1e6 * price_multiplier
            as decimal(38, 12)
        ) as estimated_cached_input_cost,
        cast(
            (
                cache_write_5m_tokens * cache_write_5m_price_per_1m
                + cache_write_1h_tokens * cache_write_1h_price_per_1m
            ) / 1e6 * price_multiplier
            as decimal(38, 12)
        ) as estimated_cache_write_cost,
        cast(
            output_tokens * output_price_per_1m / 1e6 * price_multiplier
            as decimal(38, 12)
        ) as estimated_output_cost
    from priced

),

final as (

    select
        *,
        case
            when is_not_charged then 'not_charged'
            when is_priced then 'price_book'
            when reported_cost is not null then 'reported'
        end as estimate_source,
        case
            when is_not_charged then cast(0 as decimal(38, 12))
            when is_priced
                then
                    estimated_input_cost
                    + estimated_cached_input_cost
                    + estimated_cache_write_cost
                    + estimated_output_cost
            else reported_cost
        end as estimated_cost
    from costed

)

select * from final
