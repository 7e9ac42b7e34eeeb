"""The GX file context under ``expectations/gx`` and one checkpoint run per gate.

GX is imported here, lazily, on the first gate run: it costs seconds and
hundreds of MB, and importing ``expectations`` must stay cheap.

Why batches go through Parquet files: a GX checkpoint passes the same
``batch_parameters`` to every validation definition, so one checkpoint cannot
feed different in-memory DataFrames to different suites. Each bounded frame is
written to ``gx/uncommitted/batches/<gate>/<batch>.parquet`` and read by a
pandas filesystem datasource. Its base_directory is absolute because GX
checks a relative one against the current directory, not the context root; it
is re-pointed when the project moves. The SQL datasource on DuckDB is not used:
it is broken upstream (GX #10738, #11579).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

PACKAGE_DIR = Path(__file__).parent
SITE_NAME = "costbridge"
INDEX_COLUMN = "locator"
# Validation results kept in uncommitted/validations (distinct run times, both gates).
# Data docs re-render their index over every stored result, so history is bounded.
KEEP_RUNS = 60
_contexts: dict[Path, Any] = {}


def gx_project_root() -> Path:
    """The directory holding the live ``gx/`` context: ``$COSTBRIDGE_GX_ROOT``, else
    ``$COSTBRIDGE_HOME`` (default ``<repo>/.costbridge``).

    GX writes machine-specific state (absolute batch paths, results) into its
    context, so the live context sits with the run's data and the committed
    ``expectations/gx/great_expectations.yml`` is only its template.
    """
    from warehouse.settings import costbridge_home

    explicit = os.environ.get("COSTBRIDGE_GX_ROOT")
    return Path(explicit).resolve() if explicit else costbridge_home()


def _seed_from_template(root: Path) -> None:
    live = root / "gx" / "great_expectations.yml"
    if root != PACKAGE_DIR.resolve() and not live.exists():
        live.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE_DIR / "gx" / "great_expectations.yml", live)
        shutil.copyfile(PACKAGE_DIR / "gx" / ".gitignore", live.parent / ".gitignore")


def quiet_gx_logging() -> None:
    # GX logs every metric at INFO; under Airflow's logging config that is thousands of lines.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)


def open_context(project_root: Path | None = None) -> Any:
    """The file context (cached per process: creation and GX import are slow)."""
    root = (project_root or gx_project_root()).resolve()
    if root not in _contexts:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
        _seed_from_template(root)
        quiet_gx_logging()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="file", project_root_dir=str(root))
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _contexts[root] = context
    return _contexts[root]


@contextmanager
def _locked(context: Any, gate: str) -> Iterator[None]:
    """Serialise runs of one gate: they share batch files and the checkpoint definition."""
    lock_path = Path(context.root_directory) / "uncommitted" / f"{gate}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _batch_definition(context: Any, gate: str, batch: str, batch_dir: Path) -> Any:
    """Reuse what exists, so the stored config does not churn with new ids every run."""
    ds_name = f"costbridge_{gate}"
    datasource = None
    if ds_name in context.data_sources.all():
        datasource = context.data_sources.get(ds_name)
        if Path(datasource.base_directory) != batch_dir:
            # The project moved (another checkout, or COSTBRIDGE_GX_ROOT): start afresh.
            context.data_sources.delete(ds_name)
            datasource = None
    if datasource is None:
        # Absolute on purpose: GX checks a relative base_directory against the current
        # directory, not the context root.
        datasource = context.data_sources.add_pandas_filesystem(ds_name, base_directory=batch_dir)
    try:
        asset = datasource.get_asset("batches")
    except LookupError:
        asset = datasource.add_parquet_asset("batches")
    try:
        return asset.get_batch_definition(batch)
    except (KeyError, LookupError):
        return asset.add_batch_definition_path(batch, path=f"{batch}.parquet")


@contextmanager
def _docs_site(context: Any, data_docs_dir: Path) -> Iterator[None]:
    """Point the data docs site at the caller's folder for this run only (never saved)."""
    sites = context.variables.data_docs_sites
    context.variables.data_docs_sites = {
        SITE_NAME: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(data_docs_dir).resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    try:
        yield
    finally:
        context.variables.data_docs_sites = sites


def run_checkpoint(
    gate: str,
    frames: dict[str, pd.DataFrame],
    expectations: dict[str, list],
    *,
    data_docs_dir: Path,
    context: Any | None = None,
) -> Any:
    """Validate each frame against its suite ``<gate>.<batch>`` in one checkpoint ``gate``."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    context = context or open_context()
    if set(frames) != set(expectations):
        raise ValueError(f"{gate}: batches {sorted(frames)} != suites {sorted(expectations)}")
    with _locked(context, gate):
        batch_dir = Path(context.root_directory) / "uncommitted" / "batches" / gate
        batch_dir.mkdir(parents=True, exist_ok=True)
        definitions = []
        for batch, frame in frames.items():
            frame.to_parquet(batch_dir / f"{batch}.parquet", index=False)
            suite = context.suites.add_or_update(
                gx.ExpectationSuite(name=f"{gate}.{batch}", expectations=expectations[batch])
            )
            definitions.append(
                context.validation_definitions.add_or_update(
                    gx.ValidationDefinition(
                        name=f"{gate}.{batch}",
                        data=_batch_definition(context, gate, batch, batch_dir),
                        suite=suite,
                    )
                )
            )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=gate,
                validation_definitions=definitions,
                actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[SITE_NAME])],
                result_format={
                    "result_format": "SUMMARY",
                    "unexpected_index_column_names": [INDEX_COLUMN],
                    "partial_unexpected_count": 10,
                },
            )
        )
        _prune_validation_results(Path(context.root_directory) / "uncommitted" / "validations")
        with _docs_site(context, data_docs_dir):
            return checkpoint.run()


def _prune_validation_results(store: Path, keep: int = KEEP_RUNS) -> None:
    """Delete validation results older than the newest ``keep`` run times.

    Layout: <store>/<suite parts...>/<run_name>/<run_time>/<batch_id>.json;
    run_time directories are named by UTC timestamp, so names sort by age.
    """
    results = list(store.rglob("*.json")) if store.exists() else []
    run_times = sorted({r.parent.name for r in results})
    stale = set(run_times[:-keep]) if len(run_times) > keep else set()
    for result in results:
        if result.parent.name in stale:
            result.unlink()
