"""The quality gates read landing through the contract (``landing``), never through the
extractors: importing them loads no extractor, database driver or HTTP client."""

from __future__ import annotations

import json
import subprocess
import sys

EXTRACTION_ONLY = ("extractors", "psycopg", "requests", "fsspec", "tenacity")

PROBE = """
import json, pkgutil, importlib, sys
import expectations
for module in pkgutil.walk_packages(expectations.__path__, "expectations."):
    if not module.name.endswith("__main__"):
        importlib.import_module(module.name)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_importing_the_gates_loads_no_extraction_code():
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    loaded = set(json.loads(run.stdout.strip().splitlines()[-1]))
    assert loaded.isdisjoint(EXTRACTION_ONLY), sorted(loaded & set(EXTRACTION_ONLY))
