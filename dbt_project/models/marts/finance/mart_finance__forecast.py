"""For finance: the daily spend forecast per team and for the org ('all'), from the
day after the last final day to the end of its quarter, with 80% and 95% prediction
intervals. Trained on final days only (int_forecast_daily_cost); the work is in
warehouse.forecast (docs/adr/0006-forecasting.md)."""


def model(dbt, session):
    from warehouse.forecast import forecast

    dbt.config(materialized="table")
    days, _ = forecast(dbt.ref("int_forecast_daily_cost").df())
    columns = [
        "team",
        "model_name",
        "forecast_status",
        "failure_reason",
        "reporting_currency",
        "training_days",
        "horizon_day",
        "point_forecast",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
        "as_of_date",
        "forecast_date",
    ]
    days = days.reindex(columns=columns)
    money = ", ".join(f"cast({name} as decimal(38, 6)) as {name}" for name in columns[7:12])
    return session.from_df(days).project(
        "md5(concat_ws('|', team, cast(forecast_date as varchar))) as forecast_id,"
        " cast(team as varchar) as team, cast(model_name as varchar) as model_name,"
        " cast(forecast_status as varchar) as forecast_status,"
        " cast(failure_reason as varchar) as failure_reason,"
        " cast(reporting_currency as varchar) as reporting_currency,"
        " cast(training_days as integer) as training_days,"
        f" cast(horizon_day as integer) as horizon_day, {money},"
        " cast(as_of_date as date) as as_of_date, cast(forecast_date as date) as forecast_date"
    )
