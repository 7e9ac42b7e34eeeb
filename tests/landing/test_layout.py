"""The layout is written once: dbt reads landing through the layout's own globs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from landing.layout import (
    MANIFEST,
    PART,
    dataset_glob,
    manifest_glob,
    partition_dir,
    partitions,
)

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml"


def _locations() -> dict:
    return yaml.safe_load(DBT_PROJECT.read_text(encoding="utf-8"))["sources"]["costbridge"]


def test_dbt_reads_every_dataset_through_the_layouts_glob():
    location = _locations()["+meta"]["external_location"]
    assert f"}}}}/{dataset_glob('{identifier}')}'" in location


def test_dbt_reads_the_manifests_through_the_layouts_glob():
    location = _locations()["staging"]["landing"]["+meta"]["external_location"]
    assert f"}}}}/{manifest_glob().replace(MANIFEST, '{identifier}')}'" in location


def test_partitions_skip_staging_schema_files_and_other_names(tmp_path):
    day = date(2026, 10, 1)
    for folder in (
        partition_dir(tmp_path, "openai", "openai_costs", day),
        tmp_path / "openai" / "_staging" / "date=2026-10-01",
        tmp_path / "_schema" / "openai_costs" / "date=2026-10-01",
        tmp_path / "openai" / "openai_costs" / "old-date=2026-10-01-1234abcd",
        tmp_path / "openai" / "openai_costs" / "date=not-a-day",
    ):
        folder.mkdir(parents=True)
        (folder / PART).touch()
    found = list(partitions(tmp_path))
    assert [(p.source, p.dataset, p.day) for p in found] == [("openai", "openai_costs", day)]
