"""For finance: how far to trust the forecast. A rolling-origin backtest per team
and for the org at 7- and 30-day horizons, rebuilt on every run: MAPE and the
coverage of the 80% and 95% intervals over the final days the history holds
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
        " cast(first_origin_date as date) as first_origin_date,"
        " cast(last_origin_date as date) as last_origin_date"
    )
