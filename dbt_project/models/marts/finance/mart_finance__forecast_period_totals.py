"""For finance: month-end and quarter-end totals (actual to date + forecast of the
rest) per team and for the org, for every month and the quarter the forecast
horizon reaches. The intervals are quantiles of simulated paths' sums, not sums of
the daily bounds (docs/adr/0006-forecasting.md)."""


def model(dbt, session):
    from warehouse.forecast import MONEY, STATUS_COLUMNS, as_relation, forecast

    dbt.config(materialized="table")
    _, periods = forecast(dbt.ref("int_forecast_daily_cost").df())
    columns = {
        "team": "varchar",
        "period_grain": "varchar",
        **{name: sql_type for name, sql_type in STATUS_COLUMNS.items() if name != "team"},
        "forecast_days": "integer",
        **dict.fromkeys(
            [
                "actual_to_date",
                "forecast_remainder",
                "forecast_total",
                "lo80",
                "hi80",
                "lo95",
                "hi95",
            ],
            MONEY,
        ),
        "period_start": "date",
        "period_end": "date",
        "as_of_date": "date",
    }
    grain = ["team", "period_grain", "period_start"]
    return as_relation(session, periods, "period_total_id", grain, columns)
