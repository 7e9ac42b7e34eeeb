"""The README's "Running a source by hand" commands work as written (issue 8: they did not).

The block runs in bash from the repository root, as a newcomer would paste it, over
a copy of the demo home of tests/warehouse/conftest.py. Only what a test must change
is substituted: the home folder (the README's is `make demo`'s) and the demo's last
day (this home holds 2026-10-19..20), and the sources the gates expect: this home
lands only the sandbox's sources, where `make demo`'s lands every one in
config/sources.demo.yml.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import duckdb

from tests.conftest import REPO_ROOT

README_DAY, README_NEXT_DAY = "2026-10-31", "2026-11-01"
TEST_DAY, TEST_NEXT_DAY = "2026-10-20", "2026-10-21"


def by_hand_block() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Running a source by hand") :]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_the_readme_by_hand_commands_extract_gate_build_and_publish(home, demo_home):
    block = by_hand_block()
    assert README_DAY in block and "$PWD/.costbridge" in block
    shutil.copytree(demo_home.parent / "sandbox", home.home / "sandbox")
    script = (
        block.replace("$PWD/.costbridge", str(home.home))
        .replace(README_NEXT_DAY, TEST_NEXT_DAY)
        .replace(README_DAY, TEST_DAY)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COSTBRIDGE_", "OPENAI_"))}
    env["COSTBRIDGE_SOURCES"] = str(home.sources_file)
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    published = json.loads(proc.stdout[proc.stdout.rindex('{\n  "warehouse"') :])
    assert published["end"] == TEST_NEXT_DAY
    manifest = home.landing_root / "openai" / "openai_costs" / f"date={TEST_DAY}" / "_manifest.json"
    assert json.loads(manifest.read_text())["rows_loaded"] > 0
    con = duckdb.connect(str(home.warehouse_file), read_only=True)
    try:
        runs = con.execute("select run_id from ops_publications").fetchall()
    finally:
        con.close()
    assert ("manual",) in runs
