"""The source types are listed, not registered by importing every source module."""

import subprocess
import sys
from pathlib import Path

import pytest

from extractors.registry import SOURCE_TYPES, extractor_class

REPO = Path(__file__).resolve().parents[2]


def test_importing_the_package_loads_no_source_module_or_driver():
    probe = (
        "import sys, extractors, extractors.errors, extractors.config; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('psycopg', 'fsspec', 'tenacity', 'requests') or m in "
        f"{sorted(v.split(':')[0] for v in SOURCE_TYPES.values())!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("source_type", sorted(SOURCE_TYPES))
def test_every_listed_type_resolves_to_its_class(source_type):
    assert extractor_class(source_type).type == source_type
