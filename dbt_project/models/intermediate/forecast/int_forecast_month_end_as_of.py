"""For every final day: the month-end forecast a model trained up to that day gave.

The forecast_overrun alert (mart_ops__alerts) reads it to find the first day the
month-end forecast crossed a budget, before the actual spend did. The work is in
warehouse.forecast (docs/adr/0006-forecasting.md)."""


def model(dbt, session):
    from warehouse.forecast import MONEY, STATUS_COLUMNS, as_relation, month_end_as_of

    dbt.config(materialized="table")
    rows = month_end_as_of(dbt.ref("int_forecast_daily_cost").df())
    money = [
        "month_to_date_cost",
        "forecast_month_end_cost",
        "month_end_lo80",
        "month_end_hi80",
        "month_end_lo95",
        "month_end_hi95",
    ]
    columns = {
        **STATUS_COLUMNS,
        **dict.fromkeys(money, MONEY),
        "month_start": "date",
        "as_of_date": "date",
    }
    grain = ["team", "month_start", "as_of_date"]
    return as_relation(session, rows, "forecast_as_of_id", grain, columns)
