"""For finance: how far to trust the forecast. A rolling-origin backtest per team
and for the org at 7- and 30-day horizons, rebuilt on every run: MAPE and the
coverage of the 80% and 95% intervals over the final days the history holds, and how
often the horizon's total came within a tolerance over the last back-to-back periods
(docs/adr/0006-forecasting.md)."""


def model(dbt, session):
    from warehouse.forecast import as_relation, backtest

    dbt.config(materialized="table")
    rows = backtest(dbt.ref("int_forecast_daily_cost").df())
    scores = [
        "mape",
        "coverage_80",
        "coverage_95",
        "mape_excluding_event_days",
        "coverage_80_excluding_event_days",
        "coverage_95_excluding_event_days",
        "period_total_tolerance",
    ]
    columns = {
        "team": "varchar",
        "model_name": "varchar",
        "backtest_status": "varchar",
        "failure_reason": "varchar",
        "reporting_currency": "varchar",
        **dict.fromkeys(
            ["horizon_days", "origins", "failed_origins", "scored_days", "scored_event_days"],
            "integer",
        ),
        **dict.fromkeys(scores, "double"),
        "periods_scored": "integer",
        "periods_within_tolerance": "integer",
        "worst_period_total_error": "double",
        "first_origin_date": "date",
        "last_origin_date": "date",
    }
    return as_relation(session, rows, "backtest_id", ["team", "horizon_days"], columns)
