"""Source faults: the sandbox APIs fail a seeded share of calls, the landing must not notice.

The doubles (sandbox.server) serve the real OpenAI, Anthropic and Prometheus formats on
loopback; a ``FaultPlan`` answers a seeded 30% of calls with a 429 and Retry-After, a
500, a 503, a stall past the client's read timeout, a 200 cut in half (honest or lying
Content-Length), a chunked body dropped mid-chunk, or an empty page that says has_more.
The extractors' own retries (source options, tiny backoff here) must turn that into the
very rows a clean run lands. A source that stays down fails alone, naming itself, and
lands once it is back. ``make chaos`` (FULL) runs ten seeds per source.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from extractors import run_source
from extractors.config import SourceConfig
from extractors.errors import FatalSourceError, RetriableSourceError, SourceError
from sandbox.org import DemoOrg
from sandbox.server import FAULT_KINDS, PAGED_PROVIDERS, FaultPlan, serve
from tests.reliability.conftest import FULL

KEYS = {"openai": "sk-admin-canary-faults-4e1d", "anthropic": "sk-ant-admin01-canary-faults-8b2c"}
START, END = date(2026, 10, 14), date(2026, 10, 16)
WINDOW = "[2026-10-14, 2026-10-16)"
RUNS = 10 if FULL else 1
# The full run gives the paged APIs a week (a page per day), so ten seeds meet every
# fault kind on them too; Prometheus has calls enough in two days.
FULL_END = date(2026, 10, 21)
# Enough retries that 30% faults do not exhaust them (0.3 ** 9 per call), backoff in
# milliseconds so the suite stays fast; the read timeout is what the "timeout" fault
# stalls past.
RETRIES = {
    "retry_total": 8,
    "retry_backoff_factor": 0.005,
    "retry_backoff_max": 0.02,
    "retry_after_max": 1,
    "timeout": [2, 1.0],
}
STALL = 1.5  # seconds a "timeout" fault holds its answer: past the 1.0 s read timeout
SOURCES = {
    # Pages of one daily bucket, so the cursor is followed (and faulted) on every page.
    "openai": ("openai", "openai", {"page_limit": 1}),
    "anthropic": ("anthropic", "anthropic", {"page_limit": 1}),
    "gpu_cluster": ("prometheus_dcgm", "prometheus", {"chunk_hours": 12, "step_seconds": 300}),
}
SECRET_REFS = {
    "openai": {"env": "OPENAI_ADMIN_KEY", "airflow_conn": "openai_admin"},
    "anthropic": {"env": "ANTHROPIC_ADMIN_KEY", "airflow_conn": "anthropic_admin"},
}


def source(name: str, base_url: str, **options) -> SourceConfig:
    kind, provider, own = SOURCES[name]
    secret = {"api_key": SECRET_REFS[provider]} if provider in SECRET_REFS else {}
    return SourceConfig(
        name,
        kind,
        {"base_url": base_url, "lookback_days": 0, **secret, **RETRIES, **own, **options},
    )


def extract(name: str, base_url: str, root: Path, end: date = END, **options) -> dict:
    provider = SOURCES[name][1]
    return run_source(
        source(name, base_url, **options),
        START,
        end,
        landing_root=root / "landing",
        quarantine_root=root / "quarantine",
        secrets=lambda ref: KEYS[provider],
    )


def landed(root: Path, name: str) -> dict[str, tuple[int, int, str]]:
    """Per dataset: landed rows, distinct rows, and a hash of the sorted rows."""
    out = {}
    base = root / "landing" / name
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("_")):
        rows = ds.dataset(folder, format="parquet").to_table().to_pylist()
        lines = sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        out[folder.name] = (len(lines), len(set(lines)), digest)
    return out


def secret_hits(root: Path) -> int:
    """Occurrences of the admin keys in every file the run left (landing, quarantine)."""
    keys = [k.encode() for k in KEYS.values()]
    return sum(p.read_bytes().count(k) for p in root.rglob("*") if p.is_file() for k in keys)


def counts(summary: dict) -> tuple[int, int, int]:
    sets = summary["datasets"].values()
    return (
        sum(d["rows_in"] for d in sets),
        sum(d["rows_loaded"] for d in sets),
        sum(d["rows_quarantined"] for d in sets),
    )


@pytest.fixture(scope="module")
def org() -> DemoOrg:
    return DemoOrg.load()


@pytest.fixture(scope="module")
def baseline(org, tmp_path_factory):
    """``baseline(name, end)``: what the source lands with no fault at all, run once."""
    runs: dict[tuple[str, date], dict] = {}

    def get(name: str, end: date = END) -> dict:
        if (name, end) not in runs:
            root = tmp_path_factory.mktemp(f"clean-{name}")
            with serve(org, admin_keys=KEYS) as api:
                summary = extract(name, api.url, root, end)
            runs[name, end] = {"summary": summary, "landed": landed(root, name)}
            assert all(rows for rows, _, _ in runs[name, end]["landed"].values()), name
        return runs[name, end]

    return get


@pytest.fixture(scope="module")
def clean(baseline) -> dict[str, dict]:
    """What each source lands over [START, END) with no fault: what every faulty run matches."""
    return {name: baseline(name) for name in SOURCES}


@pytest.mark.parametrize("name", list(SOURCES))
def test_a_30_percent_fault_mix_lands_exactly_what_a_clean_run_lands(
    name, org, baseline, tmp_path, chaos
):
    provider = SOURCES[name][1]
    end = FULL_END if FULL and provider in PAGED_PROVIDERS else END
    clean = baseline(name, end)
    faults: Counter[str] = Counter()
    failures: list[str] = []
    rows_in = loaded = quarantined = duplicates = hits = 0
    mismatched = []
    for seed in range(1, RUNS + 1):
        root = tmp_path / f"seed{seed}"
        # Retry-After 0 keeps the everyday run fast; the full run waits the real second.
        plan = FaultPlan(rate=0.3, seed=seed, retry_after=1 if FULL else 0, stall=STALL)
        with serve(org, admin_keys=KEYS, fault_plan=plan) as api:
            try:
                summary = extract(name, api.url, root, end)
            except SourceError as exc:
                failures.append(f"seed {seed}: {exc}")
                continue
            finally:
                faults.update(e["fault"] for e in api.requests if e["fault"])
        got = landed(root, name)
        run_in, run_loaded, run_quarantined = counts(summary)
        rows_in += run_in
        loaded += run_loaded
        quarantined += run_quarantined
        duplicates += sum(rows - distinct for rows, distinct, _ in got.values())
        hits += secret_hits(root)
        if got != clean["landed"] or summary["datasets"] != clean["summary"]["datasets"]:
            mismatched.append(seed)
    shown = ", ".join(f"{k}x{n}" for k, n in sorted(faults.items()))
    chaos(
        "source faults",
        f"{name}: 30% of calls over {RUNS} seed(s) of {(end - START).days} days, "
        f"{sum(faults.values())} faults ({shown}); "
        f"{len(failures)} failed runs",
        rows_in=rows_in,
        loaded=loaded,
        quarantined=quarantined,
        published="n/a",
        duplicates=duplicates,
        secret_hits=hits,
    )
    assert failures == []
    assert mismatched == []  # partitions, counts and every landed row as the clean run's
    assert duplicates == 0 and hits == 0
    assert faults, "the plan injected nothing: the test proves nothing"
    if FULL:  # ten seeds meet every kind the provider can be given
        possible = {k for k in FAULT_KINDS if k != "empty_page" or provider in PAGED_PROVIDERS}
        assert set(faults) == possible


DOWN_KINDS = ("429", "500", "503", "truncated", "short_body", "drop", "empty_page")


@pytest.mark.parametrize(
    ("name", "how"),
    [
        ("openai", "faults"),
        ("anthropic", "faults"),
        ("gpu_cluster", "faults"),
        ("gpu_cluster", "stopped"),
    ],
)
def test_a_source_down_through_every_retry_fails_alone_and_the_next_run_lands_it(
    name, how, org, clean, tmp_path, chaos
):
    # Every call fails (no stalls: they would only make the test slow), or nobody listens.
    plan = FaultPlan(rate=1.0, seed=5, kinds=DOWN_KINDS, retry_after=0)
    errors: dict[str, SourceError] = {}
    with serve(org, admin_keys=KEYS) as up, serve(org, admin_keys=KEYS, fault_plan=plan) as down:
        dead = down.url
        if how == "stopped":
            down.stop()
        for other in SOURCES:
            try:
                extract(other, dead if other == name else up.url, tmp_path)
            except SourceError as exc:
                errors[other] = exc
        down_calls = len(down.requests)
    assert set(errors) == {name}
    error = errors[name]
    assert isinstance(error, RetriableSourceError)  # the scheduler tries again later
    assert f"source={name}" in str(error) and f"window={WINDOW}" in str(error)
    assert "retries" in str(error)
    if how == "faults":
        assert down_calls == RETRIES["retry_total"] + 1  # the first call's budget, then stop
    # Nothing of the down source landed, half or whole; the others landed as clean.
    assert not list((tmp_path / "landing" / name).rglob("*.parquet"))
    for other in set(SOURCES) - {name}:
        assert landed(tmp_path, other) == clean[other]["landed"], other
    # It comes back: the next run lands it, identical to a clean run.
    with serve(org, admin_keys=KEYS) as back:
        summary = extract(name, back.url, tmp_path)
    got = landed(tmp_path, name)
    rows_in, loaded, quarantined = counts(summary)
    chaos(
        "source faults",
        f"{name} down ({'every call fails' if how == 'faults' else 'server stopped'}) "
        "through every retry, then back",
        rows_in=rows_in,
        loaded=loaded,
        quarantined=quarantined,
        published="n/a",
        duplicates=sum(rows - distinct for rows, distinct, _ in got.values()),
        secret_hits=secret_hits(tmp_path),
    )
    assert got == clean[name]["landed"]
    assert secret_hits(tmp_path) == 0


COSTS = "/v1/organization/costs"


def test_a_page_that_repeats_its_cursor_is_fatal_naming_the_cursor(org, tmp_path, chaos):
    with serve(org, admin_keys=KEYS) as api:
        # The first page is real; the second answers with its own cursor as next_page.
        api.faults.add(COSTS, kind="repeat_cursor", count=2)
        with pytest.raises(FatalSourceError) as caught:
            extract("openai", api.url, tmp_path, datasets=["costs"])
        calls = len(api.requests)
        cursor = api.requests[-1]["query"]["page"][0]
    message = str(caught.value)
    landed_files = list((tmp_path / "landing" / "openai").rglob("*.parquet"))
    chaos(
        "bad input",
        "a page whose next_page repeats its cursor (OpenAI costs)",
        rows_in=0,
        loaded=len(landed_files),
        quarantined=0,
        published="n/a",
    )
    assert "source=openai" in message and f"window={WINDOW}" in message
    assert f"next_page {cursor!r} repeats the cursor that fetched page 2" in message
    assert calls == 2  # refused at once, not followed 10,000 times
    assert landed_files == []


def test_an_empty_has_more_page_is_asked_again_or_fails_retriable_naming_the_page(
    org, clean, tmp_path, chaos
):
    with serve(org, admin_keys=KEYS) as api:
        # A passing hiccup: two empty answers, then the real page.
        api.faults.add(COSTS, kind="empty_page", count=2)
        summary = extract("openai", api.url, tmp_path / "hiccup", datasets=["costs"])
        # For ever: the same page keeps answering empty with has_more.
        api.faults.clear()
        api.requests.clear()
        api.faults.add(COSTS, kind="empty_page", count=1000)
        with pytest.raises(RetriableSourceError) as caught:
            extract("openai", api.url, tmp_path / "stuck", datasets=["costs"])
        stuck_calls = len(api.requests)
    rows_in, loaded, quarantined = counts(summary)
    chaos(
        "source faults",
        "empty pages with has_more true: twice (then real), and for ever",
        rows_in=rows_in,
        loaded=loaded,
        quarantined=quarantined,
        published="n/a",
    )
    got = landed(tmp_path / "hiccup", "openai")
    assert got["openai_costs"] == clean["openai"]["landed"]["openai_costs"]
    message = str(caught.value)
    assert "source=openai" in message and f"window={WINDOW}" in message
    assert f"{COSTS} page 1" in message and "empty page with has_more true" in message
    assert stuck_calls == RETRIES["retry_total"] + 1
