{% test price_book_has_no_overlap(model) %}
-- Two prices for the same provider and model in force on the same day would
-- price a usage twice: every pair of overlapping validity ranges fails.
select
    a.provider,
    a.model_id,
    a.price_version as price_version_a,
    b.price_version as price_version_b
from {{ model }} as a
inner join {{ model }} as b
    on
        a.provider = b.provider
        and a.model_id = b.model_id
        and a.price_version < b.price_version
        and a.effective_from < coalesce(b.effective_to, date '9999-12-31')
        and b.effective_from < coalesce(a.effective_to, date '9999-12-31')
{% endtest %}
