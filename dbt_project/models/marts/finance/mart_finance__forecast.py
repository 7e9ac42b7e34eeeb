"""For finance: the daily spend forecast per team and for the org ('all'), from the
day after the last final day to the end of its quarter, with 80% and 95% prediction
intervals. Trained on final days only (int_forecast_daily_cost); the work is in
warehouse.forecast (docs/adr/0006-forecasting.md)."""


def model(dbt, session):
    from warehouse.forecast import MONEY, STATUS_COLUMNS, as_relation, forecast

    dbt.config(materialized="table")
    days, _ = forecast(dbt.ref("int_forecast_daily_cost").df())
    columns = {
        **STATUS_COLUMNS,
        "horizon_day": "integer",
        **dict.fromkeys(["point_forecast", "lo80", "hi80", "lo95", "hi95"], MONEY),
        "as_of_date": "date",
        "forecast_date": "date",
    }
    return as_relation(session, days, "forecast_id", ["team", "forecast_date"], columns)
