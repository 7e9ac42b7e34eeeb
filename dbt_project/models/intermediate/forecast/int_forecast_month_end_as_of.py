"""For every final day: the month-end forecast a model trained up to that day gave.

The forecast_overrun alert (mart_ops__alerts) reads it to find the first day the
month-end forecast crossed a budget, before the actual spend did. The work is in
warehouse.forecast (docs/adr/0006-forecasting.md)."""


def model(dbt, session):
    from warehouse.forecast import month_end_as_of

    dbt.config(materialized="table")
    rows = month_end_as_of(dbt.ref("int_forecast_daily_cost").df())
    columns = [
        "team",
        "model_name",
        "forecast_status",
        "failure_reason",
        "reporting_currency",
        "training_days",
        "month_to_date_cost",
        "forecast_month_end_cost",
        "month_end_lo80",
        "month_end_hi80",
        "month_end_lo95",
        "month_end_hi95",
        "month_start",
        "as_of_date",
    ]
    rows = rows.reindex(columns=columns)
    money = ", ".join(f"cast({name} as decimal(38, 6)) as {name}" for name in columns[6:12])
    return session.from_df(rows).project(
        "md5(concat_ws('|', team, cast(month_start as varchar), cast(as_of_date as varchar)))"
        " as forecast_as_of_id,"
        " cast(team as varchar) as team, cast(model_name as varchar) as model_name,"
        " cast(forecast_status as varchar) as forecast_status,"
        " cast(failure_reason as varchar) as failure_reason,"
        " cast(reporting_currency as varchar) as reporting_currency,"
        f" cast(training_days as integer) as training_days, {money},"
        " cast(month_start as date) as month_start, cast(as_of_date as date) as as_of_date"
    )
