"""The leadership ROI report of October 2026 on the month-long demo warehouse, read back
the way a reader gets it: the PDF through poppler (pdftotext, pdfimages, pdftoppm) and
the archived HTML, its figures checked against the marts."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from reports.leadership import CAPTIONS
from reports.marts import Period, money, percent
from reports.run import leadership_report
from tests.reports.report_helpers import (
    copy_home,
    first_page_png,
    flat_text,
    ink,
    pdf_images,
    sql,
)

OCTOBER = Period.parse("month", "2026-10")


@pytest.fixture(scope="module")
def october(month_home, tmp_path_factory):
    settings = copy_home(month_home, tmp_path_factory.mktemp("leadership") / "home")
    run = leadership_report(settings, OCTOBER)
    return settings, run


def test_the_report_is_archived_with_an_index(october):
    settings, run = october
    folder = settings.home / "reports" / "leadership-monthly" / "2026-10"
    assert run.status == "rendered"
    assert run.files == {"html": str(folder / "report.html"), "pdf": str(folder / "report.pdf")}
    index = (settings.home / "reports" / "index.html").read_text()
    assert 'href="leadership-monthly/2026-10/report.html"' in index
    assert 'href="leadership-monthly/2026-10/report.pdf"' in index


def test_the_pdf_tells_the_month_spend_of_the_final_days(october):
    settings, run = october
    ((spend, currency),) = sql(
        settings,
        """
        select sum(effective_cost), any_value(reporting_currency) from mart_finance__unit_cost
        where period_grain = 'day' and period_start >= '2026-10-01' and period_start < '2026-11-01'
          and period_start in (select landing_date from ops_day_status where is_final_day)""",
    )
    ((fact,),) = sql(
        settings,
        """
        select sum(effective_cost_reporting) from fct_ai_cost where charge_date in
            (select landing_date from ops_day_status where is_final_day)
          and charge_date >= '2026-10-01' and charge_date < '2026-11-01'""",
    )
    assert abs(spend - fact) < Decimal("0.05")  # the mart and the fact tell the same month
    text = flat_text(run.files["pdf"])
    assert f"AI spend was {money(spend, currency)}" in text
    ((budget,),) = sql(
        settings,
        "select sum(budget_amount) from sem_budgets_converted where budget_month = '2026-10-01'",
    )
    assert money(budget, currency) in text


def test_the_pdf_tells_each_portfolio_roi_of_the_leadership_mart(october):
    settings, run = october
    flat = flat_text(run.files["pdf"])
    portfolios = sql(
        settings,
        "select portfolio, roi, spend from mart_leadership__roi_summary"
        " where month_start = '2026-10-01'",
    )
    assert portfolios
    for portfolio, roi, spend in portfolios:
        assert (percent(roi) if roi is not None else "n/a") in flat, portfolio
        assert money(spend, "USD") in flat, portfolio
        # A name may wrap inside its cell: every word of it is there.
        assert all(word in flat for word in portfolio.split("-")), portfolio


def test_the_negative_roi_features_are_called_out(october):
    settings, run = october
    losing = {
        f
        for (f,) in sql(
            settings,
            """
        select feature_id from mart_product__feature_roi
        where week_start >= '2026-09-28' and week_start < '2026-11-01'
        group by feature_id having sum(credited_value) < sum(cost)""",
        )
    }
    # The demo org's research model earns nothing; the campaign feature lost money too.
    assert {"churn-model", "ad-copy-gen"} <= losing
    text = flat_text(run.files["pdf"])
    callout = text[text.index("Negative ROI:") :][:600]
    for feature in losing:
        assert feature in callout, feature
    assert "churn-model (data-science, -100.0%" in callout


def test_every_chart_is_in_the_pdf_with_its_caption(october):
    _, run = october
    assert len(pdf_images(run.files["pdf"])) == len(CAPTIONS) == 4
    text = flat_text(run.files["pdf"])
    for caption in CAPTIONS.values():
        assert caption in text, caption
    assert "Backtested from 11 origins" in text  # mart_finance__forecast_backtest, 'all', 7 days


def test_the_backtest_headline_is_the_marts_week_count(october):
    """ "within ±10% in N of the last M weeks", from the org's 7-day backtest row, where a
    week holds when its forecast total came within the tolerance of the actual total."""
    settings, run = october
    ((tolerance, scored, within, worst),) = sql(
        settings,
        """
        select period_total_tolerance, periods_scored, periods_within_tolerance,
               worst_period_total_error
        from mart_finance__forecast_backtest where team = 'all' and horizon_days = 7""",
    )
    assert scored >= 2 and 0 <= within <= scored
    text = flat_text(run.files["pdf"])
    assert (
        f"The 7-day forecast was within ±{percent(tolerance, digits=0)} in {within} of the"
        f" last {scored} weeks"
    ) in text
    assert f"worst miss {percent(worst)}" in text


def test_the_first_page_is_drawn(october):
    _, run = october
    png = first_page_png(run.files["pdf"], "leadership-monthly-2026-10-page1")
    assert ink(png) > 0.03, f"page 1 looks blank: {png}"


def test_the_html_stands_alone_and_a_rerun_writes_the_same_files(october):
    settings, run = october
    page = settings.home / "reports" / "leadership-monthly" / "2026-10" / "report.html"
    html = page.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "an external resource"
    assert html.count('src="data:image/png;base64,') == 4
    before = {p: open(p, "rb").read() for p in run.files.values()}
    again = leadership_report(settings, OCTOBER)
    assert again.files == run.files
    assert {p: open(p, "rb").read() for p in again.files.values()} == before
