"""`python -m sandbox serve|files`: run the doubles or write the demo files."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from datetime import date
from pathlib import Path

from sandbox import files, telemetry
from sandbox.org import DemoOrg
from sandbox.server import default_admin_keys, serve


def _write_atomically(path: str, text: str) -> None:
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # readers never see a half-written file


def _env_lines(url: str) -> str:
    """Shell exports that point costbridge's API sources at the doubles, keys included.

    The keys are the doubles' own (sandbox.server), so no key is spelled in docs.
    """
    keys = default_admin_keys()
    env = {
        "COSTBRIDGE_OPENAI_BASE_URL": url,
        "COSTBRIDGE_ANTHROPIC_BASE_URL": url,
        "COSTBRIDGE_PROMETHEUS_URL": url,
        "OPENAI_ADMIN_KEY": keys["openai"],
        "ANTHROPIC_ADMIN_KEY": keys["anthropic"],
    }
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())


def _serve(args: argparse.Namespace) -> int:
    org = DemoOrg.load(args.org)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with serve(org, host=args.host, port=args.port) as api:
        if args.url_file:
            _write_atomically(args.url_file, api.url + "\n")
        if args.env_file:
            _write_atomically(args.env_file, _env_lines(api.url))
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
    written.append(
        files.write_openmetrics(org, out / "prometheus" / "dcgm.om", start, end, args.step)
    )
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
    p_serve.add_argument(
        "--env-file", help="write shell exports (base URLs, the doubles' keys) here once listening"
    )
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
