"""`python -m reports` on a copy of the month-long demo home, without Airflow."""

from __future__ import annotations

import pytest

from reports.__main__ import main
from tests.reports.report_helpers import copy_home


@pytest.fixture
def home(month_home, tmp_path):
    return copy_home(month_home, tmp_path / "home").home


def test_the_cli_renders_a_team_week_and_the_index_lists_it(home, capsys):
    assert main(["--home", str(home), "weekly", "--week", "2026-10-21", "--team", "growth"]) == 0
    out = capsys.readouterr().out
    pdf = home / "reports" / "weekly-team" / "2026-W43" / "growth.pdf"
    assert f"weekly-team 2026-W43 growth: rendered -> {pdf}" in out
    assert main(["--home", str(home), "index"]) == 0
    index = (home / "reports" / "index.html").read_text()
    assert 'href="weekly-team/2026-W43/growth.html"' in index


def test_the_cli_says_what_is_wrong_with_its_input(home, capsys):
    assert main(["--home", str(home), "weekly", "--week", "2026-W43", "--team", "nobody"]) == 1
    assert "no team nobody in the teams seed" in capsys.readouterr().err
    assert main(["--home", str(home / "elsewhere"), "leadership", "--month", "2026-10"]) == 1
    assert "no published warehouse" in capsys.readouterr().err
