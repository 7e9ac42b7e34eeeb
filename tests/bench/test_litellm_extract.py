"""The LiteLLM benchmark harness at toy scale: its report's shape and its row counts.

Timings are reported, never asserted (see bench/README.md).
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.litellm_copy_baseline import REPO_ROOT


def test_harness_reports_baseline_and_extractor_over_the_same_rows():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.litellm_extract",
            "--rows-per-day",
            "20000",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(proc.stdout)

    assert report["rows_per_day"] == 20_000 and report["setup"]["rows_filled"] == 20_000
    assert report["baseline"]["rows"] == 20_000
    extractor = report["extractor"]
    assert (extractor["rows"], extractor["rows_loaded"], extractor["rows_quarantined"]) == (
        20_000,
        20_000,
        0,
    )
    assert report["rows_match"] is True
    assert extractor["parquet_bytes"] > 0
    for side in (report["baseline"], extractor):
        assert side["seconds"] > 0 and side["peak_rss_mib"] > 0
    ratio = extractor["seconds"] / report["baseline"]["seconds"]
    assert abs(report["ratio_seconds"] - ratio) < 0.01
    assert report["targets"] == {"ratio_seconds_max": 2.0, "extractor_peak_rss_mib_max": 2048.0}
    assert set(report["meets_targets"]) == {"ratio_seconds", "extractor_peak_rss_mib"}
    assert "password" not in proc.stdout + proc.stderr
