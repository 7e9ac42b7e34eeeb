"""The daily spend forecast behind the forecast marts (docs/adr/0006-forecasting.md).

The dbt Python models under dbt_project/models/{intermediate/forecast,marts/finance}
call these functions: dbt has no macros for Python models, and three models share
one way to fit, forecast, simulate and backtest. Input is always the rows of
`int_forecast_daily_cost` (team, cost_date, daily_cost, training_cost, is_event_day,
reporting_currency): final days only, an unbroken zero-filled run, so nothing here
decides what is final or which days are one-off events. Models are fitted on
training_cost (event days replaced by a baseline there); actual spend (month to
date, backtest scores) is daily_cost.

The model is statsmodels' ETSModel with weekly seasonality. Period totals (month
end, quarter end) take their intervals from simulated paths, never from summing
daily bounds: daily errors are correlated, so summed bounds are far too wide.
"""

from __future__ import annotations

import functools
import warnings
from datetime import date, timedelta

import numpy as np
import pandas as pd

MIN_TRAINING_DAYS = 14
SEASONAL_PERIODS = 7
# statsmodels' heuristic start values (level, trend, seasonal indices from the first
# cycles) need 10 + 2 * (SEASONAL_PERIODS // 2) days; on shorter series they are
# estimated with the smoothing parameters instead.
HEURISTIC_INIT_DAYS = 10 + 2 * (SEASONAL_PERIODS // 2)
SIMULATIONS = 500
RANDOM_SEED = 20261001
BACKTEST_HORIZONS = (7, 30)
# A horizon's forecast total "held" when it came within this share of the actual total:
# the leadership report's "the 7-day forecast was within ±10% in N of the last M weeks".
PERIOD_TOTAL_TOLERANCE = 0.10
# (interval name, lower quantile, upper quantile)
INTERVALS = (("80", 0.10, 0.90), ("95", 0.025, 0.975))

OK, INSUFFICIENT, FIT_FAILED = "ok", "insufficient_history", "fit_failed"


# The status columns every forecast mart leads with, and their SQL types.
STATUS_COLUMNS = {
    "team": "varchar",
    "model_name": "varchar",
    "forecast_status": "varchar",
    "failure_reason": "varchar",
    "reporting_currency": "varchar",
    "training_days": "integer",
}
MONEY = "decimal(38, 6)"


def as_relation(session, frame: pd.DataFrame, key: str, grain: list[str], columns: dict):
    """``frame`` as a forecast model's relation: ``key`` the md5 of its ``grain``, then
    ``columns`` (name -> SQL type) in order, each cast to its type."""
    frame = frame.reindex(columns=list(columns))
    grain_text = ", ".join(f"cast({name} as varchar)" for name in grain)
    casts = ", ".join(f"cast({name} as {sql_type}) as {name}" for name, sql_type in columns.items())
    return session.from_df(frame).project(f"md5(concat_ws('|', {grain_text})) as {key}, {casts}")


def model_spec(values: np.ndarray) -> tuple[str, dict]:
    """Multiplicative error and season when the series is strictly positive (weekend
    spend is a share of weekday spend), additive otherwise (ETS(M..) cannot take a 0)."""
    if np.all(values > 0):
        return "ETS(M,Ad,M)", {"error": "mul", "seasonal": "mul"}
    return "ETS(A,Ad,A)", {"error": "add", "seasonal": "add"}


def fit(series: pd.Series):
    """Fit one series (float values on a daily DatetimeIndex). Raises on a failed fit.

    Memoised on the series: the backtest's origins are the as-of fits of the same
    history, and dbt-duckdb runs every Python model of a build in one process."""
    return _fit(series.index[0], tuple(series.to_numpy().tolist()))


@functools.lru_cache(maxsize=4096)
def _fit(first_day: pd.Timestamp, values: tuple[float, ...]):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    series = pd.Series(values, index=pd.date_range(first_day, periods=len(values), freq="D"))
    _, spec = model_spec(series.to_numpy())
    # Estimating the 9 start states with the smoothing parameters is about 13
    # parameters on 14-30 days: the in-sample residuals are too small and every
    # interval overconfident. Heuristic start values leave 4 to estimate (and fit
    # about ten times faster).
    initialization = "heuristic" if len(series) >= HEURISTIC_INIT_DAYS else "estimated"
    model = ETSModel(
        series,
        trend="add",
        damped_trend=True,
        seasonal_periods=SEASONAL_PERIODS,
        initialization_method=initialization,
        **spec,
    )
    with warnings.catch_warnings():
        # Convergence chatter on short series; a fit that is unusable raises instead.
        warnings.simplefilter("ignore")
        results = model.fit(disp=False)
    if not np.all(np.isfinite(results.params)):
        raise ValueError("the fit returned non-finite parameters")
    return results


def _rng() -> np.random.Generator:
    # A fresh generator per call: a series' numbers do not depend on what ran before.
    return np.random.default_rng(RANDOM_SEED)


def daily_forecast(results, horizon: int) -> pd.DataFrame:
    """Point forecast and 80%/95% prediction intervals for the next `horizon` days."""
    n = results.nobs
    prediction = results.get_prediction(
        start=n, end=n + horizon - 1, simulate_repetitions=SIMULATIONS, rng=_rng()
    )
    frame = pd.DataFrame({"point_forecast": np.asarray(prediction.predicted_mean)})
    for name, lower, _ in INTERVALS:
        bounds = prediction.summary_frame(alpha=2 * lower)
        frame[f"lo{name}"] = bounds["pi_lower"].to_numpy()
        frame[f"hi{name}"] = bounds["pi_upper"].to_numpy()
    return frame


def simulated_paths(results, horizon: int) -> np.ndarray:
    """SIMULATIONS future paths, shape (horizon, SIMULATIONS)."""
    paths = results.simulate(
        nsimulations=horizon, anchor="end", repetitions=SIMULATIONS, rng=_rng()
    )
    return np.asarray(paths, dtype=float).reshape(horizon, -1)


def path_total(paths: np.ndarray, steps: slice) -> dict[str, float]:
    """Quantiles of the summed paths over `steps`: the interval of a period total."""
    totals = paths[steps].sum(axis=0)
    out = {}
    for name, lower, upper in INTERVALS:
        out[f"lo{name}"] = float(np.quantile(totals, lower))
        out[f"hi{name}"] = float(np.quantile(totals, upper))
    return out


def series_by_team(daily: pd.DataFrame, column: str = "daily_cost") -> dict[str, pd.Series]:
    """{team: `column` on a daily index}, in team order."""
    out = {}
    for team, rows in daily.sort_values(["team", "cost_date"]).groupby("team", sort=True):
        index = pd.DatetimeIndex(pd.to_datetime(rows["cost_date"]), freq="D")
        values = rows[column]
        dtype = bool if column == "is_event_day" else float
        out[team] = pd.Series(values.astype(dtype).to_numpy(), index=index)
    return out


def currency_of(daily: pd.DataFrame) -> str | None:
    values = daily["reporting_currency"].dropna().unique()
    return str(values[0]) if len(values) else None


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_end(day: date) -> date:
    return month_end(date(day.year, 3 * ((day.month - 1) // 3) + 3, 1))


def _as_date(value) -> date:
    return pd.Timestamp(value).date()


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def forecast(daily: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(daily rows, period-total rows) from the day after the last final day to the
    end of its quarter, per team. Too short a history or a failed fit gives rows
    with the status and null numbers."""
    currency = currency_of(daily)
    day_rows, period_rows = [], []
    training = series_by_team(daily, "training_cost")
    for team, series in series_by_team(daily).items():
        as_of = _as_date(series.index[-1])
        first = as_of + timedelta(days=1)
        last = quarter_end(first)
        horizon = (last - first).days + 1
        dates = [first + timedelta(days=i) for i in range(horizon)]
        periods = [("quarter", quarter_start(first), last)]
        cursor = first
        while cursor <= last:
            periods.append(("month", month_start(cursor), month_end(cursor)))
            cursor = month_end(cursor) + timedelta(days=1)
        status: str = OK
        reason: str | None = None
        frame: pd.DataFrame | None = None
        paths: np.ndarray | None = None
        name: str | None = model_spec(training[team].to_numpy())[0]
        if len(series) < MIN_TRAINING_DAYS:
            status, name = INSUFFICIENT, None
        else:
            try:
                results = fit(training[team])
                frame = daily_forecast(results, horizon)
                paths = simulated_paths(results, horizon)
            except Exception as error:  # noqa: BLE001 - one bad series must not fail the build
                status, reason, frame, paths = FIT_FAILED, _reason(error), None, None
        common = {
            "team": team,
            "model_name": name,
            "forecast_status": status,
            "failure_reason": reason,
            "reporting_currency": currency,
            "training_days": len(series),
            "as_of_date": as_of,
        }
        for i, day in enumerate(dates):
            numbers = frame.iloc[i].to_dict() if frame is not None else {}
            day_rows.append({**common, "forecast_date": day, "horizon_day": i + 1, **numbers})
        for grain, start, end in periods:
            actual = float(series[(series.index >= str(start)) & (series.index <= str(end))].sum())
            steps = slice((max(start, first) - first).days, (end - first).days + 1)
            row = {
                **common,
                "period_grain": grain,
                "period_start": start,
                "period_end": end,
                "forecast_days": steps.stop - steps.start,
                "actual_to_date": actual,
            }
            if frame is not None and paths is not None:
                remainder = float(frame["point_forecast"].iloc[steps].sum())
                totals = path_total(paths, steps)
                row |= {
                    "forecast_remainder": remainder,
                    "forecast_total": actual + remainder,
                    **{key: actual + value for key, value in totals.items()},
                }
            period_rows.append(row)
    return pd.DataFrame(day_rows), pd.DataFrame(period_rows)


def month_end_as_of(daily: pd.DataFrame) -> pd.DataFrame:
    """For every final day of the history: the month-end forecast a model trained on
    the days up to and including it would have given (the forecast_overrun alert's
    input: on which day did the forecast first cross the budget?)."""
    currency = currency_of(daily)
    rows = []
    training = series_by_team(daily, "training_cost")
    for team, series in series_by_team(daily).items():
        for n in range(1, len(series) + 1):
            history = series.iloc[:n]
            as_of = _as_date(history.index[-1])
            start, end = month_start(as_of), month_end(as_of)
            to_date = float(history[history.index >= str(start)].sum())
            remaining = (end - as_of).days
            row = {
                "team": team,
                "model_name": None,
                "forecast_status": INSUFFICIENT,
                "failure_reason": None,
                "reporting_currency": currency,
                "training_days": n,
                "month_to_date_cost": to_date,
                "month_start": start,
                "as_of_date": as_of,
            }
            if n >= MIN_TRAINING_DAYS:
                trained_on = training[team].iloc[:n]
                row |= {"model_name": model_spec(trained_on.to_numpy())[0], "forecast_status": OK}
                try:
                    if remaining == 0:
                        # The month is complete: its total is the actual, with no spread.
                        point = 0.0
                        totals = {
                            f"{side}{name}": 0.0 for name, *_ in INTERVALS for side in ("lo", "hi")
                        }
                    else:
                        results = fit(trained_on)
                        point = float(np.sum(results.forecast(remaining)))
                        totals = path_total(simulated_paths(results, remaining), slice(None))
                    row |= {"forecast_month_end_cost": to_date + point}
                    row |= {f"month_end_{k}": to_date + v for k, v in totals.items()}
                except Exception as error:  # noqa: BLE001 - one bad series must not fail the build
                    row |= {"forecast_status": FIT_FAILED, "failure_reason": _reason(error)}
            rows.append(row)
    return pd.DataFrame(rows)


def backtest(daily: pd.DataFrame, horizons=BACKTEST_HORIZONS) -> pd.DataFrame:
    """Rolling-origin backtest per team and horizon: every origin with at least
    MIN_TRAINING_DAYS of history and `horizon` known days after it is fitted on the
    training days up to it and scored against actual spend on the next `horizon`
    days (each day one point). Scores are given over all days and again leaving out
    one-off event days, which no model of past spend foresees."""
    currency = currency_of(daily)
    training = series_by_team(daily, "training_cost")
    event_days = series_by_team(daily, "is_event_day")
    rows = []
    for team, series in series_by_team(daily).items():
        for horizon in horizons:
            origins = range(MIN_TRAINING_DAYS, len(series) - horizon + 1)
            scored_days, failures, scored = [], [], []
            total_errors: dict[int, float | None] = {}  # origin -> |forecast - actual| / actual
            for n in origins:
                try:
                    frame = daily_forecast(fit(training[team].iloc[:n]), horizon)
                except Exception as error:  # noqa: BLE001 - a failed origin is counted, not fatal
                    failures.append(_reason(error))
                    continue
                scored.append(n)
                actual_total = float(series.iloc[n : n + horizon].sum())
                total_errors[n] = (
                    abs(float(frame["point_forecast"].sum()) - actual_total) / abs(actual_total)
                    if actual_total
                    else None
                )
                scored_days.append(
                    pd.DataFrame(
                        {
                            "actual": series.iloc[n : n + horizon].to_numpy(),
                            "is_event_day": event_days[team].iloc[n : n + horizon].to_numpy(),
                            "in80": (
                                (series.iloc[n : n + horizon].to_numpy() >= frame["lo80"])
                                & (series.iloc[n : n + horizon].to_numpy() <= frame["hi80"])
                            ).to_numpy(),
                            "in95": (
                                (series.iloc[n : n + horizon].to_numpy() >= frame["lo95"])
                                & (series.iloc[n : n + horizon].to_numpy() <= frame["hi95"])
                            ).to_numpy(),
                            "point": frame["point_forecast"].to_numpy(),
                        }
                    )
                )
            days = pd.concat(scored_days, ignore_index=True) if scored_days else None
            ordinary = days[~days["is_event_day"]] if days is not None else None
            if not origins:
                status = INSUFFICIENT
            elif not scored:
                status = FIT_FAILED
            else:
                status = OK
            rows.append(
                {
                    "team": team,
                    "model_name": model_spec(training[team].to_numpy())[0] if scored else None,
                    "backtest_status": status,
                    "failure_reason": failures[0] if failures else None,
                    "reporting_currency": currency,
                    "horizon_days": horizon,
                    "origins": len(scored),
                    "failed_origins": len(failures),
                    "scored_days": len(days) if days is not None else 0,
                    "scored_event_days": int(days["is_event_day"].sum()) if days is not None else 0,
                    **_score(days, ""),
                    **_score(ordinary, "_excluding_event_days"),
                    **_period_totals(total_errors, horizon),
                    "first_origin_date": _as_date(series.index[scored[0] - 1]) if scored else None,
                    "last_origin_date": _as_date(series.index[scored[-1] - 1]) if scored else None,
                }
            )
    return pd.DataFrame(rows)


def _period_totals(total_errors: dict[int, float | None], horizon: int) -> dict:
    """How often the horizon's forecast TOTAL held, over back-to-back periods: the last
    scored origin, and every `horizon` days before it (for 7 days, the last M weeks, none
    overlapping). A period whose actual total is 0 has no relative error and is left out."""
    if not total_errors:
        return {
            "period_total_tolerance": PERIOD_TOTAL_TOLERANCE,
            "periods_scored": 0,
            "periods_within_tolerance": 0,
            "worst_period_total_error": None,
        }
    last = max(total_errors)
    scored = (total_errors.get(n) for n in range(last, MIN_TRAINING_DAYS - 1, -horizon))
    errors = [e for e in scored if e is not None]
    return {
        "period_total_tolerance": PERIOD_TOTAL_TOLERANCE,
        "periods_scored": len(errors),
        "periods_within_tolerance": sum(e <= PERIOD_TOTAL_TOLERANCE for e in errors),
        "worst_period_total_error": max(errors) if errors else None,
    }


def _score(days: pd.DataFrame | None, suffix: str) -> dict[str, float | None]:
    """MAPE (days with a non-zero actual) and interval coverage over `days`."""
    if days is None or days.empty:
        return {f"{k}{suffix}": None for k in ("mape", "coverage_80", "coverage_95")}
    nonzero = days[days["actual"] != 0]
    errors = (nonzero["actual"] - nonzero["point"]).abs() / nonzero["actual"].abs()
    return {
        f"mape{suffix}": float(errors.mean()) if len(errors) else None,
        f"coverage_80{suffix}": float(days["in80"].mean()),
        f"coverage_95{suffix}": float(days["in95"].mean()),
    }
