"""For finance: month-end and quarter-end totals (actual to date + forecast of the
rest) per team and for the org, for every month and the quarter the forecast
horizon reaches. The intervals are quantiles of simulated paths' sums, not sums of
the daily bounds (docs/adr/0006-forecasting.md)."""


def model(dbt, session):
    from warehouse.forecast import forecast

    dbt.config(materialized="table")
    _, periods = forecast(dbt.ref("int_forecast_daily_cost").df())
    columns = [
        "team",
        "period_grain",
        "model_name",
        "forecast_status",
        "failure_reason",
        "reporting_currency",
        "training_days",
        "forecast_days",
        "actual_to_date",
        "forecast_remainder",
        "forecast_total",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
        "period_start",
        "period_end",
        "as_of_date",
    ]
    periods = periods.reindex(columns=columns)
    money = ", ".join(f"cast({name} as decimal(38, 6)) as {name}" for name in columns[8:15])
    return session.from_df(periods).project(
        "md5(concat_ws('|', team, period_grain, cast(period_start as varchar)))"
        " as period_total_id,"
        " cast(team as varchar) as team, cast(period_grain as varchar) as period_grain,"
        " cast(model_name as varchar) as model_name,"
        " cast(forecast_status as varchar) as forecast_status,"
        " cast(failure_reason as varchar) as failure_reason,"
        " cast(reporting_currency as varchar) as reporting_currency,"
        " cast(training_days as integer) as training_days,"
        f" cast(forecast_days as integer) as forecast_days, {money},"
        " cast(period_start as date) as period_start, cast(period_end as date) as period_end,"
        " cast(as_of_date as date) as as_of_date"
    )
