"""The attack suite's table: every reliability test records what it injected and what came out.

``make chaos`` (``COSTBRIDGE_CHAOS=full``) runs the suite at full strength and prints
the table; ``make test`` runs it at its everyday size and prints it too. A row's
verdict is the test's own outcome, so the table can never say "holds" for an
attack whose assertions failed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

FULL = os.environ.get("COSTBRIDGE_CHAOS") == "full"
COLUMNS = (
    "class",
    "injected",
    "rows in",
    "loaded",
    "quarantined",
    "published",
    "duplicates",
    "secret hits",
    "holds",
)


@dataclass
class ChaosRow:
    attack: str
    injected: str
    rows_in: int | str = "-"
    loaded: int | str = "-"
    quarantined: int | str = "-"
    published: int | str = "-"
    duplicates: int | str = 0
    secret_hits: int | str = 0
    holds: str = "?"
    nodeid: str = field(default="", repr=False)

    def cells(self) -> list[str]:
        return [
            str(v)
            for v in (
                self.attack,
                self.injected,
                self.rows_in,
                self.loaded,
                self.quarantined,
                self.published,
                self.duplicates,
                self.secret_hits,
                self.holds,
            )
        ]


_ROWS: list[ChaosRow] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.chaos_passed = report.passed
    elif report.failed:
        item.chaos_passed = False


@pytest.fixture
def chaos(request):
    """``chaos(attack, injected, rows_in=..., ...)`` adds this test's row to the table."""
    rows: list[ChaosRow] = []

    def record(attack: str, injected: str, **counts) -> ChaosRow:
        row = ChaosRow(attack, injected, nodeid=request.node.nodeid, **counts)
        rows.append(row)
        return row

    yield record
    passed = getattr(request.node, "chaos_passed", False)
    for row in rows:
        row.holds = "yes" if passed else "NO"
        _ROWS.append(row)


def render(rows: list[ChaosRow]) -> str:
    """A Markdown table: it reads in a terminal and pastes into an issue note."""
    table = [list(COLUMNS)] + [r.cells() for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
        for line in table
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter):
    if not _ROWS:
        return
    rows = sorted(_ROWS, key=lambda r: (r.attack, r.nodeid))
    text = render(rows)
    terminalreporter.write_sep("=", f"attack table ({'full' if FULL else 'everyday'} strength)")
    terminalreporter.write_line(text)
    target = os.environ.get("COSTBRIDGE_CHAOS_TABLE")
    if target:
        Path(target).write_text(text + "\n", encoding="utf-8")
