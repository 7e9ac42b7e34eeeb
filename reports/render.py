"""How a report becomes files: Jinja templates with inline CSS, Matplotlib charts as PNG,
WeasyPrint for the PDF, and the archive under ``$COSTBRIDGE_HOME/reports``.

Charts are embedded three ways from the same PNG bytes: as ``data:`` URIs in the
archived HTML and in the PDF (so both stand alone, with no external resource),
and as ``cid:`` parts of a multipart/related email (mail clients block data: URIs
in mail more often than related parts). Nothing here reads the clock: a rerun
over the same published file writes the same files.

    $COSTBRIDGE_HOME/reports/index.html
    $COSTBRIDGE_HOME/reports/<kind>/<period>/<name>.html and .pdf
        kind: weekly-team | leadership-weekly | leadership-monthly
        period: Period.key (2026-W43, 2026-10)
        name: the team (weekly-team) or "report"
"""

from __future__ import annotations

import base64
import html
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
KINDS = ("weekly-team", "leadership-weekly", "leadership-monthly")


@dataclass(frozen=True)
class Chart:
    """One figure: its PNG and the caption the reader (and the PDF test) finds under it."""

    name: str
    caption: str
    png: bytes

    @property
    def cid(self) -> str:
        return f"{self.name}@costbridge.reports"

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode()


@dataclass
class Rendered:
    """A report ready to write and mail."""

    kind: str
    period_key: str
    name: str  # file stem: the team, or "report"
    title: str
    html: str  # charts as data: URIs
    email_html: str  # charts as cid: parts
    text: str  # the plain-text part of the mail
    charts: list[Chart] = field(default_factory=list)
    pdf: bytes = b""
    has_data: bool = True


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render_html(template: str, **context) -> tuple[str, str]:
    """(archived HTML with data: URIs, email HTML with cid: references)."""
    env = environment()
    charts: list[Chart] = context.get("charts", [])
    page = env.get_template(template)
    archived = page.render(**context, chart_src={c.name: c.data_uri for c in charts})
    email = page.render(**context, chart_src={c.name: f"cid:{c.cid}" for c in charts})
    return archived, email


def pdf_of(page_html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=page_html, base_url=str(TEMPLATES)).write_pdf()


def png_of(fig) -> bytes:
    """A Matplotlib figure as an RGB PNG: no alpha channel, so the PDF holds one image per
    chart (an RGBA PNG becomes an image and its soft mask) and the bytes carry no date."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, facecolor="white", metadata={"Software": None})
    buffer.seek(0)
    out = io.BytesIO()
    Image.open(buffer).convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def figure(width: float = 7.0, height: float = 3.0, width_ratios: list[float] | None = None):
    """A figure in the reports' style: one axes, or one per width ratio side by side. The
    style is set before every figure, so the first chart of a process looks like the rest."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    if width_ratios:
        return plt.subplots(
            1,
            len(width_ratios),
            figsize=(width, height),
            gridspec_kw={"width_ratios": width_ratios},
        )
    return plt.subplots(figsize=(width, height))


def close(fig) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig)


def reports_root(home: Path) -> Path:
    return Path(home) / "reports"


def report_dir(home: Path, kind: str, period_key: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}: one of {', '.join(KINDS)}")
    return reports_root(home) / kind / period_key


def write_report(home: Path, report: Rendered) -> dict[str, Path]:
    """Write the report's HTML and PDF into the archive (replacing a previous render
    atomically) and refresh the index; return the paths."""
    folder = report_dir(home, report.kind, report.period_key)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"html": folder / f"{report.name}.html", "pdf": folder / f"{report.name}.pdf"}
    _write_atomically(paths["html"], report.html.encode())
    _write_atomically(paths["pdf"], report.pdf)
    write_index(home)
    return paths


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def archived(home: Path) -> list[dict]:
    """Every archived report, newest period first within each kind."""
    found = []
    root = reports_root(home)
    for kind in KINDS:
        for folder in sorted((root / kind).glob("*"), reverse=True):
            if not folder.is_dir():
                continue
            for page in sorted(folder.glob("[!.]*.html")):
                pdf = page.with_suffix(".pdf")
                found.append(
                    {
                        "kind": kind,
                        "period": folder.name,
                        "name": page.stem,
                        "html": page.relative_to(root).as_posix(),
                        "pdf": pdf.relative_to(root).as_posix() if pdf.exists() else None,
                        "title": _title_of(page),
                    }
                )
    return found


def _title_of(page: Path) -> str:
    text = page.read_text(encoding="utf-8", errors="replace")
    start, end = text.find("<title>"), text.find("</title>")
    return html.unescape(text[start + 7 : end]) if 0 <= start < end else page.stem


def write_index(home: Path) -> Path:
    """$COSTBRIDGE_HOME/reports/index.html: every archived report, by kind and period."""
    root = reports_root(home)
    root.mkdir(parents=True, exist_ok=True)
    entries = archived(home)
    page = (
        environment()
        .get_template("index.html.j2")
        .render(
            kinds=KINDS,
            entries=entries,
        )
    )
    target = root / "index.html"
    _write_atomically(target, page.encode())
    return target
