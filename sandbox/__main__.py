"""`python -m sandbox serve|files`: run the doubles or write the demo files."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import date
from pathlib import Path

from sandbox import files, telemetry
from sandbox.org import DemoOrg
from sandbox.server import serve


def _serve(args: argparse.Namespace) -> int:
    org = DemoOrg.load(args.org)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with serve(org, host=args.host, port=args.port) as api:
        if args.url_file:
            tmp = Path(args.url_file).with_suffix(".tmp")
            tmp.write_text(api.url + "\n", encoding="utf-8")
            tmp.replace(args.url_file)  # readers never see a half-written URL
        print(api.url, flush=True)
        stop.wait()
    return 0


def _files(args: argparse.Namespace) -> int:
    org = DemoOrg.load(args.org)
    out = Path(args.out)
    start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    if start >= end:
        print(f"sandbox files: --start {start} must be before --end {end}", file=sys.stderr)
        return 2
    written = files.write_focus_export(org, out / "focus", start, end)
    written += files.write_value_kpis(org, out / "value", start, end)
    written += telemetry.write_nvidia_smi_logs(org, out / "nvidia_smi", start, end)
    written += telemetry.write_otel_spans(org, out / "otel", start, end)
    written.append(files.write_openmetrics(org, out / "prometheus" / "dcgm.om", start, end,
                                           args.step))
    print(f"wrote {len(written)} files under {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--org", help="demo organisation YAML (default: sandbox/demo_org.yml)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="serve the API doubles on loopback")
    p_serve.add_argument("--host", default="127.0.0.1")
    p_serve.add_argument("--port", type=int, default=0)
    p_serve.add_argument("--url-file", help="write the bound URL here once listening")
    p_serve.set_defaults(func=_serve)
    p_files = sub.add_parser(
        "files", help="write FOCUS, value, nvidia-smi, OTel span and OpenMetrics files"
    )
    p_files.add_argument("--out", required=True)
    p_files.add_argument("--start", required=True, help="YYYY-MM-DD (inclusive)")
    p_files.add_argument("--end", required=True, help="YYYY-MM-DD (exclusive)")
    p_files.add_argument("--step", type=int, default=300, help="DCGM sample step in seconds")
    p_files.set_defaults(func=_files)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
