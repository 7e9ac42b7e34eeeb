"""Restatements: a provider re-bills a day three days later, or re-delivers a closed month.

The fact and the marts must be replaced, never doubled: the day's (the month's) totals
equal the restated bill to the cent, no fact key appears twice, and what finance
reconciles (mart_finance__reconciliation for token bills, the FOCUS invoice lines of
focus_cost_and_usage for the cloud bill) shows the new amounts.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from sandbox.files import focus_file_name
from sandbox.org import DemoOrg
from tests.reliability.restate_home import (
    BASE_END,
    billed_by_day,
    copy_home,
    month_file,
    read_export,
    restate,
    write_export,
)

pytestmark = pytest.mark.slow
CENT = Decimal("0.01")
FOCUS_SOURCE = "focus:aws_focus"


class RestatedOrg(DemoOrg):
    """The demo organisation whose OpenAI bill of some days was re-billed (``restated``)."""

    restated: dict[date, float]

    def openai_cost_lines(self, day):
        lines = super().openai_cost_lines(day)
        extra = getattr(self, "restated", {}).get(day)
        if extra and lines:
            first = lines[0]
            lines = [first | {"amount": round(first["amount"] + extra, 10)}, *lines[1:]]
        return lines


def _cents(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def _focus_by_day(home, start: date, end: date) -> dict[date, Decimal]:
    rows = home.query(
        "select charge_date, sum(billed_cost) from fct_ai_cost where source_system = ?"
        " and charge_date >= ? and charge_date < ? group by 1",
        [FOCUS_SOURCE, start, end],
    )
    return {day: total for day, total in rows}


def _fact_duplicates(home) -> int:
    (count,) = home.query(
        "select count(*) from (select ai_cost_id from fct_ai_cost group by 1 having count(*) > 1)"
    )[0]
    return count


def _invoices(home, period: date) -> dict[str, Decimal]:
    """FOCUS invoice lines of one billing period, as a FinOps tool reads the published FOCUS."""
    rows = home.query(
        'select "InvoiceId", sum("BilledCost") from focus_cost_and_usage'
        ' where "x_SourceSystem" = ? and cast("BillingPeriodStart" as date) = ? group by 1',
        [FOCUS_SOURCE, period],
    )
    return {invoice: total for invoice, total in rows}


def _rows_by_invoice(rows: list[dict[str, str]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for row in rows:
        totals[row["InvoiceId"]] = totals.get(row["InvoiceId"], Decimal(0)) + Decimal(
            row["BilledCost"]
        )
    return totals


def _openai_reconciliation(home, day: date) -> tuple[Decimal, Decimal]:
    return home.query(
        "select sum(billed_cost), sum(variance) from mart_finance__reconciliation"
        " where charge_date = ? and provider_name = 'OpenAI'",
        [day],
    )[0]


def _unit_cost_day(home, day: date) -> Decimal:
    return home.query(
        "select sum(billed_cost) from mart_finance__unit_cost"
        " where period_grain = 'day' and period_start = ?",
        [day],
    )[0][0]


def test_a_day_restated_three_days_later_is_replaced_not_doubled(restate_base, tmp_path, chaos):
    home = copy_home(restate_base, tmp_path / "home")
    day, later = date(2026, 9, 27), date(2026, 9, 30)  # the run of 09-30 looks back to 09-27
    fact_before = _focus_by_day(home, day, day + timedelta(days=1))[day]
    billed_before, variance_before = _openai_reconciliation(home, day)
    unit_cost_before = _unit_cost_day(home, day)

    # AWS re-delivers September's export in place with 09-27 re-billed; OpenAI's cost
    # report re-bills 09-27 too (a token bill: what the reconciliation mart holds).
    export = month_file(home.focus, "2026-09")
    rows = read_export(export)
    delta, openai_delta = Decimal("12.345678"), 25.5
    changed = restate(rows, day, delta)
    write_export(export, rows)
    org = RestatedOrg.load()
    org.restated = {day: openai_delta}
    summary = home.extract(later, later + timedelta(days=1), org)
    home.run(later, later + timedelta(days=1), "three-days-later")

    focus = summary["aws_focus"]["datasets"]["focus_cost_and_usage"]
    restated_bill = billed_by_day(rows)
    after = _focus_by_day(home, date(2026, 9, 24), later + timedelta(days=1))
    # The restated day equals the restated bill to the cent, once; every other day is its bill.
    assert _cents(after[day]) == _cents(restated_bill[day]) == _cents(fact_before + changed * delta)
    for other in after:
        assert _cents(after[other]) == _cents(restated_bill[other]), other
    duplicates = _fact_duplicates(home)
    assert duplicates == 0
    # The marts moved with the fact, and the reconciliation shows the re-billed amount.
    invoices = _invoices(home, date(2026, 9, 1))
    landed_rows = [r for r in rows if date.fromisoformat(r["ChargePeriodStart"][:10]) <= later]
    assert {k: _cents(v) for k, v in invoices.items()} == {
        k: _cents(v) for k, v in _rows_by_invoice(landed_rows).items()
    }
    assert _cents(_unit_cost_day(home, day) - unit_cost_before) == _cents(
        changed * delta + Decimal(str(openai_delta))
    )
    billed_after, variance_after = _openai_reconciliation(home, day)
    assert _cents(billed_after - billed_before) == _cents(Decimal(str(openai_delta)))
    assert _cents(variance_after - variance_before) == _cents(Decimal(str(openai_delta)))
    chaos(
        "restatement",
        f"BilledCost of {day} restated 3 days later (FOCUS +{delta} on {changed} rows, "
        f"OpenAI +{openai_delta})",
        rows_in=focus["rows_in"],
        loaded=focus["rows_loaded"],
        quarantined=focus["rows_quarantined"],
        published="replaced",
        duplicates=duplicates,
    )


def test_a_new_export_version_of_a_closed_month_replaces_the_whole_month(
    restate_base, tmp_path, chaos
):
    home = copy_home(restate_base, tmp_path / "home")
    start, end = BASE_END, date(2026, 10, 2)  # 09-30 and 10-01: September has closed
    early = date(2026, 9, 25)  # before the run's 3-day lookback: only the new version reaches it
    old = month_file(home.focus, "2026-09")
    rows = read_export(old)
    delta = Decimal("-7.5")
    changed = restate(rows, early, delta) + restate(rows, date(2026, 9, 28), delta)
    # The re-delivery is a new export version (a new export id in the name); the old is gone.
    old.unlink()
    write_export(home.focus / focus_file_name("2026-09", "redelivered01"), rows)

    summary = home.extract(start, end)
    focus = summary["aws_focus"]
    assert focus["window"]["start"].startswith("2026-09-01"), focus["window"]  # widened
    home.run(start, end, "new-version")

    new_bill = billed_by_day(rows)
    after = _focus_by_day(home, date(2026, 9, 1), date(2026, 10, 1))
    assert {d: _cents(v) for d, v in after.items()} == {d: _cents(v) for d, v in new_bill.items()}
    assert _cents(after[early]) == _cents(new_bill[early])
    duplicates = _fact_duplicates(home)
    assert duplicates == 0
    invoices = _invoices(home, date(2026, 9, 1))
    assert {k: _cents(v) for k, v in invoices.items()} == {
        k: _cents(v) for k, v in _rows_by_invoice(rows).items()
    }
    # Every landed day of September says which version it holds: the new one.
    folder = home.settings.landing_root / "aws_focus" / "focus_cost_and_usage"
    for manifest in folder.glob("date=2026-09-*/_manifest.json"):
        versions = json.loads(manifest.read_text())["export_versions"]
        assert {v for by_key in versions.values() for v in by_key.values()} >= {"redelivered01"}
    dataset = focus["datasets"]["focus_cost_and_usage"]
    chaos(
        "restatement",
        f"new export version of closed month 2026-09 ({changed} rows re-billed, one before "
        "the lookback)",
        rows_in=dataset["rows_in"],
        loaded=dataset["rows_loaded"],
        quarantined=dataset["rows_quarantined"],
        published="replaced",
        duplicates=duplicates,
    )
