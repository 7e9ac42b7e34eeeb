"""The metrics glossary (docs/metrics.md) and dbt docs, from the compiled semantic layer.

Every metric is defined once in dbt_project/models/semantic/_semantic__metrics.yml;
each role metric carries in ``config.meta.roles`` the label and description each
role (engineering, finance, product, leadership) knows it by. The glossary is
rendered from dbt's compiled ``semantic_manifest.json``, never from a second
list, so every role's word links to the one definition MetricFlow runs.

    python -m warehouse.glossary render --manifest T/semantic_manifest.json --out docs/metrics.md
    python -m warehouse.glossary docs --out docs/metrics.md --dbt-docs DIR   # `make docs`
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

ROLES = ("engineering", "finance", "product", "leadership")
METRICS_FILE = "dbt_project/models/semantic/_semantic__metrics.yml"


class GlossaryError(ValueError):
    """The semantic manifest lacks what the glossary needs (a role label, a measure)."""


def load_semantic_manifest(path: Path) -> dict:
    if not path.exists():
        raise GlossaryError(f"{path} does not exist: run `dbt parse` (or `make docs`) first")
    return json.loads(path.read_text())


def role_metrics(manifest: dict) -> list[dict]:
    """The metrics people use (meta kind role_metric), in file order, each with all four roles."""
    found = []
    for metric in manifest["metrics"]:
        meta = (metric.get("config") or {}).get("meta") or {}
        if meta.get("kind") != "role_metric":
            continue
        roles = meta.get("roles") or {}
        missing = [r for r in ROLES if not (roles.get(r) or {}).get("label")]
        if missing:
            raise GlossaryError(f"metric {metric['name']!r} has no label for role(s) {missing}")
        found.append(metric)
    return found


def role_label_index(manifest: dict) -> dict[tuple[str, str], str]:
    """(role, label) -> metric name: what each role's word means."""
    index: dict[tuple[str, str], str] = {}
    for metric in role_metrics(manifest):
        for role, words in metric["config"]["meta"]["roles"].items():
            key = (role, words["label"])
            if key in index and index[key] != metric["name"]:
                raise GlossaryError(
                    f"role {role!r} uses label {words['label']!r} for both "
                    f"{index[key]!r} and {metric['name']!r}"
                )
            index[key] = metric["name"]
    return index


def _measures(manifest: dict) -> dict[str, tuple[str, dict]]:
    return {
        measure["name"]: (model["node_relation"]["alias"], measure)
        for model in manifest["semantic_models"]
        for measure in model.get("measures") or []
    }


def _filters(ref: dict) -> str:
    wheres = ((ref.get("filter") or {}).get("where_filters")) or []
    text = " and ".join(w["where_sql_template"].strip() for w in wheres)
    return f" where `{text}`" if text else ""


def _formula(metric: dict, measures: dict[str, tuple[str, dict]]) -> str:
    params = metric["type_params"]
    kind = metric["type"]
    if kind == "simple":
        name = params["measure"]["name"]
        if name not in measures:
            raise GlossaryError(f"metric {metric['name']!r} uses unknown measure {name!r}")
        model, measure = measures[name]
        return f"`{measure['agg']}({measure.get('expr') or name})` over `{model}`"
    if kind == "ratio":
        num, den = params["numerator"], params["denominator"]
        return (
            f"[`{num['name']}`](#{num['name']}){_filters(num)} / "
            f"[`{den['name']}`](#{den['name']}){_filters(den)}"
        )
    if kind == "derived":
        inputs = []
        for ref in params["metrics"]:
            alias = f" as `{ref['alias']}`" if ref.get("alias") else ""
            inputs.append(f"[`{ref['name']}`](#{ref['name']}){_filters(ref)}{alias}")
        return f"`{params['expr']}` with " + ", ".join(inputs)
    return f"{kind} metric (see {METRICS_FILE})"


def mart_columns_by_metric(project_dir: Path | None = None) -> dict[str, list[str]]:
    """metric name -> ["mart.column", ...]: the mart columns whose YAML config.meta.metric names it.

    Those columns are computed with the metric's macro (dbt_project/macros/metrics.sql) and
    tests/dbt/test_semantic_layer.py checks each against `mf query` at the mart's grain.
    """
    from warehouse.mart_docs import mart_models

    found: dict[str, list[str]] = {}
    for model in mart_models(project_dir):
        for column in model.get("columns") or []:
            metric = ((column.get("config") or {}).get("meta") or {}).get("metric")
            if metric:
                found.setdefault(metric, []).append(f"{model['name']}.{column['name']}")
    return found


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_glossary(manifest: dict, carriers: dict[str, list[str]] | None = None) -> str:
    """docs/metrics.md as text: the same manifest (and marts' YAML) always renders the same page."""
    carriers = mart_columns_by_metric() if carriers is None else carriers
    measures = _measures(manifest)
    metrics = role_metrics(manifest)
    role_names = {m["name"] for m in metrics}
    blocks = [m for m in manifest["metrics"] if m["name"] not in role_names]
    role_label_index(manifest)  # fails on a label that means two things to one role

    lines = [
        "# Metrics glossary",
        "",
        "<!-- Generated by `make docs` (python -m warehouse.glossary) from dbt's compiled",
        f"     semantic layer ({METRICS_FILE}). Do not edit by hand. -->",
        "",
        "Each metric is defined **once**, in the dbt semantic layer. Each role reads it in its own",
        "words below; every word links to the same definition, which is what `mf query` runs",
        "(for example `mf query --metrics cost_per_1k_tokens --group-by metric_time__month,team`",
        "from `dbt_project/`). Money is in the reporting currency and never includes estimates.",
        "",
        "## In each role's words",
        "",
        "| metric | " + " | ".join(ROLES) + " |",
        "|---|" + "---|" * len(ROLES),
    ]
    for metric in metrics:
        roles = metric["config"]["meta"]["roles"]
        cells = [f"[{_cell(roles[r]['label'])}](#{metric['name']})" for r in ROLES]
        lines.append(f"| `{metric['name']}` | " + " | ".join(cells) + " |")
    lines += ["", "## Definitions", ""]
    for metric in metrics:
        meta = metric["config"]["meta"]
        lines += [
            f'<a id="{metric["name"]}"></a>',
            f"### {metric.get('label') or metric['name']} (`{metric['name']}`)",
            "",
            _cell(metric.get("description") or ""),
            "",
            f"- Formula: {_formula(metric, measures)}",
        ]
        if meta.get("unit"):
            lines.append(f"- Unit: {meta['unit']}")
        if carriers.get(metric["name"]):
            columns = ", ".join(f"`{c}`" for c in carriers[metric["name"]])
            lines.append(f"- In the marts: {columns}")
        lines += ["", "| role | label | what it means for you |", "|---|---|---|"]
        for role in ROLES:
            words = meta["roles"][role]
            lines.append(
                f"| {role} | {_cell(words['label'])} | {_cell(words.get('description', ''))} |"
            )
        lines.append("")
    lines += [
        "## Building blocks",
        "",
        "Metrics the role metrics are made of.",
        "",
        "| metric | label | formula | description |",
        "|---|---|---|---|",
    ]
    for metric in blocks:
        anchor = f'<a id="{metric["name"]}"></a>`{metric["name"]}`'
        lines.append(
            f"| {anchor} | {_cell(metric.get('label') or '')} | {_formula(metric, measures)}"
            f" | {_cell(metric.get('description') or '')} |"
        )
    return "\n".join(lines) + "\n"


def write_glossary(manifest_path: Path, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_glossary(load_semantic_manifest(manifest_path)))
    return out


def generate_docs(out: Path, dbt_docs_dir: Path) -> Path:
    """`dbt docs generate` (static page) into dbt_docs_dir, then the glossary; returns the page.

    The catalog is read from a COPY of the published warehouse, so readers' file
    is never opened for writing; with nothing published the catalog is empty.
    """
    # Imported here: the render path needs no settings or dbt.
    from warehouse.build import run_dbt
    from warehouse.settings import Settings

    settings = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="costbridge-docs-") as scratch:
        target_file = Path(scratch) / "catalog.duckdb"
        command = ["docs", "generate", "--static"]
        if settings.warehouse_file.exists():
            shutil.copyfile(settings.warehouse_file, target_file)
        else:
            command.append("--empty-catalog")
        run_dbt(
            command,
            target_file=target_file,
            landing_root=settings.landing_root,
            artifacts_dir=dbt_docs_dir,
            project_dir=settings.dbt_project_dir,
        )
    write_glossary(dbt_docs_dir / "target" / "semantic_manifest.json", out)
    return dbt_docs_dir / "target" / "static_index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse.glossary", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="render docs/metrics.md from a semantic_manifest.json")
    render.add_argument("--manifest", type=Path, required=True)
    render.add_argument("--out", type=Path, required=True)
    docs = sub.add_parser("docs", help="dbt docs generate, then render the glossary")
    docs.add_argument("--out", type=Path, required=True)
    docs.add_argument("--dbt-docs", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "render":
        print(write_glossary(args.manifest, args.out))
    else:
        page = generate_docs(args.out, args.dbt_docs.resolve())
        print(f"dbt docs: {page}\nglossary: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
