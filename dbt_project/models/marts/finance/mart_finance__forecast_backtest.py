"""For finance: how far to trust the forecast. A rolling-origin backtest per team
and for the org at 7- and 30-day horizons, rebuilt on every run: MAPE and the
coverage of the 80% and 95% intervals over the final days the history holds, and how
often the horizon's total came within a tolerance over the last back-to-back periods
(docs/adr/0006-forecasting.md)."""


def model(dbt, session):
    from warehouse.forecast import backtest

    dbt.config(materialized="table")
    rows = backtest(dbt.ref("int_forecast_daily_cost").df())
    columns = [
        "team",
        "model_name",
        "backtest_status",
        "failure_reason",
        "reporting_currency",
        "horizon_days",
        "origins",
        "failed_origins",
        "scored_days",
        "scored_event_days",
        "mape",
        "coverage_80",
        "coverage_95",
        "mape_excluding_event_days",
        "coverage_80_excluding_event_days",
        "coverage_95_excluding_event_days",
        "period_total_tolerance",
        "periods_scored",
        "periods_within_tolerance",
        "worst_period_total_error",
        "first_origin_date",
        "last_origin_date",
    ]
    rows = rows.reindex(columns=columns)
    return session.from_df(rows).project(
        "md5(concat_ws('|', team, cast(horizon_days as varchar))) as backtest_id,"
        " cast(team as varchar) as team, cast(model_name as varchar) as model_name,"
        " cast(backtest_status as varchar) as backtest_status,"
        " cast(failure_reason as varchar) as failure_reason,"
        " cast(reporting_currency as varchar) as reporting_currency,"
        " cast(horizon_days as integer) as horizon_days, cast(origins as integer) as origins,"
        " cast(failed_origins as integer) as failed_origins,"
        " cast(scored_days as integer) as scored_days,"
        " cast(scored_event_days as integer) as scored_event_days,"
        " cast(mape as double) as mape, cast(coverage_80 as double) as coverage_80,"
        " cast(coverage_95 as double) as coverage_95,"
        " cast(mape_excluding_event_days as double) as mape_excluding_event_days,"
        " cast(coverage_80_excluding_event_days as double) as coverage_80_excluding_event_days,"
        " cast(coverage_95_excluding_event_days as double) as coverage_95_excluding_event_days,"
        " cast(period_total_tolerance as double) as period_total_tolerance,"
        " cast(periods_scored as integer) as periods_scored,"
        " cast(periods_within_tolerance as integer) as periods_within_tolerance,"
        " cast(worst_period_total_error as double) as worst_period_total_error,"
        " cast(first_origin_date as date) as first_origin_date,"
        " cast(last_origin_date as date) as last_origin_date"
    )
