"""``python -m extractors --config FILE --source NAME --start YYYY-MM-DD --end YYYY-MM-DD``.

Prints the JSON summary. Exit codes: 0 done, 1 fatal (a person must act),
75 retriable (EX_TEMPFAIL: try again later), 2 bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from extractors.base import run_source
from extractors.config import get_source, load_sources
from extractors.errors import ConfigError, SourceError
from landing.layout import ensure_schema_files
from landing.window import parse_day
from warehouse.settings import configured_home

EXIT_FATAL, EXIT_CONFIG, EXIT_RETRIABLE = 1, 2, 75


def _default(sub: str) -> Path | None:
    home = configured_home()
    return home / sub if home else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m extractors", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--config", required=True, type=Path, help="sources YAML file")
    parser.add_argument("--source", required=True, help="source name in the config")
    parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--end", required=True, help="last day, YYYY-MM-DD (exclusive)")
    parser.add_argument(
        "--landing",
        type=Path,
        default=_default("landing"),
        help="landing root (default $COSTBRIDGE_HOME/landing)",
    )
    parser.add_argument(
        "--quarantine",
        type=Path,
        default=_default("quarantine"),
        help="quarantine root (default $COSTBRIDGE_HOME/quarantine)",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.landing is None or args.quarantine is None:
        print("error: give --landing and --quarantine, or set COSTBRIDGE_HOME", file=sys.stderr)
        return EXIT_CONFIG
    try:
        start, end = parse_day(args.start), parse_day(args.end)
        source = get_source(load_sources(args.config), args.source)
        ensure_schema_files(args.landing)
        summary = run_source(
            source, start, end, landing_root=args.landing, quarantine_root=args.quarantine
        )
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except SourceError as exc:
        kind = "retriable" if exc.retriable else "fatal"
        print(f"error ({kind}): {exc}", file=sys.stderr)
        return EXIT_RETRIABLE if exc.retriable else EXIT_FATAL
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
