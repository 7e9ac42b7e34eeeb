"""Where landed data lives: partitions, their manifests, staging and the schema files.

::

    <landing_root>/<source>/<dataset>/date=YYYY-MM-DD/part-0.parquet
    <landing_root>/<source>/<dataset>/date=YYYY-MM-DD/_manifest.json
    <quarantine_root>/<source>/<dataset>/date=YYYY-MM-DD/part-0.parquet
    <landing_root>/<source>/_staging/...                     (a landing in flight)
    <landing_root>/_schema/<dataset>/empty/part-0.parquet    (zero rows)
    <landing_root>/_schema/_manifests/empty/_manifest.json   (a manifest of no partition)

dbt reads every source of a dataset through ``dataset_glob`` and every manifest through
``manifest_glob``: the ``sources:`` block of dbt_project.yml spells the same two globs
(tests/landing checks it). Neither matches staging; both match the ``_schema`` files, so
a dataset no source has landed yet still reads as zero rows with its columns.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from landing.schemas import DATASETS, Dataset

PART = "part-0.parquet"
MANIFEST = "_manifest.json"
STAGING = "_staging"
SCHEMA_DIR = "_schema"
# A manifest of no partition: every key dbt reads, no source (stg_landing__manifests drops it).
EMPTY_MANIFEST = {
    "source": None,
    "dataset": None,
    "partition_date": None,
    "rows_in": 0,
    "rows_loaded": 0,
    "rows_quarantined": 0,
    "window_start": None,
    "window_end": None,
    "extracted_at": None,
}


def dataset_glob(dataset: str) -> str:
    """Every source's partitions of ``dataset``, relative to the landing root."""
    return f"*/{dataset}/*/*.parquet"


def manifest_glob() -> str:
    """Every partition's manifest, relative to the landing root."""
    return f"*/*/*/{MANIFEST}"


def partition_name(day: date) -> str:
    return f"date={day.isoformat()}"


def partition_day(name: str) -> date | None:
    """The day a partition folder is named for; None for any other name."""
    if not name.startswith("date="):
        return None
    try:
        return date.fromisoformat(name.removeprefix("date="))
    except ValueError:
        return None


def partition_dir(root: Path, source: str, dataset: str, day: date) -> Path:
    return Path(root) / source / dataset / partition_name(day)


@dataclass(frozen=True)
class Partition:
    source: str
    dataset: str
    day: date
    path: Path


def partitions(root: Path, *, source: str = "*", dataset: str = "*") -> Iterator[Partition]:
    """The partitions under a landing or quarantine root, in path order.

    Staging, the ``_schema`` files and anything not named for a day are not partitions.
    """
    for folder in sorted(Path(root).glob(f"{source}/{dataset}/date=*")):
        source_dir, dataset_dir = folder.parent.parent, folder.parent
        day = partition_day(folder.name)
        if (
            day is None
            or source_dir.name.startswith(("_", "."))
            or dataset_dir.name == STAGING
            or not folder.is_dir()
        ):
            continue
        yield Partition(source_dir.name, dataset_dir.name, day, folder)


def read_manifest(partition: Path) -> dict[str, Any]:
    return json.loads((Path(partition) / MANIFEST).read_text(encoding="utf-8"))


def write_manifest(partition: Path, manifest: dict[str, Any]) -> None:
    """The partition's manifest: ``manifest`` plus the row count and hash of its file."""
    part = Path(partition) / PART
    manifest["files"] = [
        {
            "path": PART,
            "rows": pq.ParquetFile(part).metadata.num_rows,
            # A day can be gigabytes: hash it in blocks, never read it whole.
            "sha256": _sha256(part),
        }
    ]
    (Path(partition) / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def ensure_schema_files(landing_root: Path) -> list[Path]:
    """A zero-row file per dataset and the placeholder manifest, so dbt's globs never come
    up empty."""
    written = []
    for dataset in DATASETS.values():
        target = Path(landing_root) / SCHEMA_DIR / dataset.name / "empty" / PART
        _replace(target, functools.partial(_write_empty, dataset))
        written.append(target)
    placeholder = Path(landing_root) / SCHEMA_DIR / "_manifests" / "empty" / MANIFEST
    _replace(
        placeholder, lambda path: path.write_text(json.dumps(EMPTY_MANIFEST), encoding="utf-8")
    )
    written.append(placeholder)
    return written


def _replace(target: Path, write: Callable[[Path], object]) -> None:
    """Write ``target`` beside itself, then rename: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}")
    write(temporary)
    os.replace(temporary, target)


def _write_empty(dataset: Dataset, path: Path) -> None:
    pq.write_table(dataset.file_schema.empty_table(), path)


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()
