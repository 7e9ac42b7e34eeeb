-- Every catalogue feature states its AI value credit completely and only once:
-- `share` needs ai_value_share in [0, 1] and no baseline; `incremental` needs a
-- non-negative baseline_value_per_day and no share. A row returned is wrong.
select
    feature_id,
    value_method,
    ai_value_share,
    baseline_value_per_day
from {{ ref('feature_catalogue') }}
where
    (
        value_method = 'share'
        and (
            ai_value_share is null
            or ai_value_share < 0
            or ai_value_share > 1
            or baseline_value_per_day is not null
        )
    )
    or (
        value_method = 'incremental'
        and (
            baseline_value_per_day is null
            or baseline_value_per_day < 0
            or ai_value_share is not null
        )
    )
