"""Business value drop files: ``feature_kpis_YYYY-MM-DD.csv`` (or ``.parquet``).

Columns: date, feature_id, active_users, conversions, revenue, currency. The file's
date selects it; each row's own ``date`` decides its partition.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pyarrow.parquet as pq

from extractors.base import Extractor, Record
from extractors.drift import check_columns
from extractors.errors import FatalSourceError
from extractors.landing import Reject
from extractors.options import FileSourceOptions
from landing.schemas import VALUE_FEATURE_KPIS, Dataset

COLUMNS = ("date", "feature_id", "active_users", "conversions", "revenue", "currency")
FILE_NAME = re.compile(r"^feature_kpis_(\d{4}-\d{2}-\d{2})\.(csv|parquet)$")


def drop_files(root: Path) -> list[tuple[date, Path]]:
    found = []
    for path in sorted(root.iterdir()):
        match = FILE_NAME.match(path.name)
        if match:
            found.append((date.fromisoformat(match.group(1)), path))
    return found


def _rows(path: Path) -> tuple[list[str], Iterator[dict[str, Any]]]:
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return table.column_names, iter(table.to_pylist())
    handle = path.open(encoding="utf-8-sig", newline="")
    reader = csv.DictReader(handle)

    def rows() -> Iterator[dict[str, Any]]:
        with handle:
            yield from reader

    return list(reader.fieldnames or []), rows()


class ValueFileExtractor(Extractor):
    type = "value_file"
    datasets: ClassVar[dict[str, Dataset]] = {"feature_kpis": VALUE_FEATURE_KPIS}
    Options = FileSourceOptions
    options: FileSourceOptions

    def extract(self, dataset: Dataset) -> Iterator[Record]:
        root = Path(self.options.path)
        if not root.is_dir():
            raise FatalSourceError(
                f"value folder does not exist: {root}",
                source=self.name,
                window=self.window,
                record=str(root),
            )
        wanted = set(self.window.days())
        for day, path in drop_files(root):
            if day not in wanted:
                continue
            columns, rows = _rows(path)
            self.ignore_columns(
                dataset,
                check_columns(
                    columns,
                    expected=COLUMNS,
                    required=COLUMNS,
                    allow_added=self.allow_added_columns,
                    source=self.name,
                    window=self.window,
                    where=path.name,
                ),
            )
            for line, row in enumerate(rows, start=2):
                ref = f"{path.name}:{line}"
                if None in row:  # csv puts surplus cells of a ragged line under the key None
                    yield Reject(
                        ref,
                        "more cells than header columns",
                        {k or "_extra": v for k, v in row.items()},
                    )
                    continue
                yield {
                    "record_ref": ref,
                    "feature_id": row.get("feature_id"),
                    "currency": row.get("currency"),
                    "active_users": row.get("active_users"),
                    "conversions": row.get("conversions"),
                    "revenue": row.get("revenue"),
                    "kpi_at": row.get("date"),
                }
