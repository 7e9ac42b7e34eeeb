"""Run the pipeline after extraction from a shell, over the landing already in $COSTBRIDGE_HOME.

    python -m warehouse run     --start 2026-10-19 --end 2026-10-21 [--run-id ID]
    python -m warehouse build   --start ... --end ... [--run-id ID]   # dbt into the next file only
    python -m warehouse publish --next-file F --start ... --end ... [--run-id ID]
    python -m warehouse intraday --as-of 2026-10-31T14:00Z [--run-id ID]  # today so far

`run` is the DAG's order: landing gate, dbt build, marts gate, publish. `publish`
publishes to every target as one unit: PostgreSQL (when COSTBRIDGE_POSTGRES_DSN is
set) and the Parquet exports from the next file, then the DuckDB file.
Exit status 1, with one line on stderr, when a gate blocks the day or a target is
left behind (the DuckDB file has moved; ops_publish_targets says which target is
behind and why, and the next run retries it).

`intraday` is the whole of ai_finops_intraday, extraction included (docs/intraday.md):
today's usage up to the hour of --as-of, priced into the intraday file.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date

from landing.window import Window
from warehouse import pipeline
from warehouse.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m warehouse", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["run", "build", "publish", "intraday"])
    parser.add_argument("--start", type=date.fromisoformat)
    parser.add_argument("--end", type=date.fromisoformat, help="exclusive")
    parser.add_argument("--as-of", help="intraday: ISO datetime, UTC (floored to the hour)")
    parser.add_argument("--run-id", default="manual")
    parser.add_argument("--next-file", help="publish: the built and validated next file")
    args = parser.parse_args(argv)
    if args.command == "intraday" and not args.as_of:
        parser.error("intraday needs --as-of")
    if args.command != "intraday" and not (args.start and args.end):
        parser.error(f"{args.command} needs --start and --end")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    settings = Settings.from_env()
    from expectations import GateFailed
    from extractors.errors import ConfigError
    from warehouse.publish import PublishTargetBehind

    try:
        if args.command == "intraday":
            from warehouse.intraday import run_intraday

            result = run_intraday(settings, args.as_of, args.run_id)
        elif args.command == "publish" and not args.next_file:
            parser.error("publish needs --next-file")
        else:
            result = _run_daily(settings, args)
    except (GateFailed, PublishTargetBehind) as exc:
        print(exc, file=sys.stderr)
        return 1
    except ConfigError as exc:  # the sources file is wrong: say where, without a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str))
    return 0


def _run_daily(settings: Settings, args: argparse.Namespace) -> dict:
    """`run`, `build` or `publish` over the window --start..--end."""
    window = Window(args.start, args.end)
    if args.command == "run":
        return pipeline.run_day(settings, window, args.run_id)
    if args.command == "build":
        return {"next_file": pipeline.build(settings, window, args.run_id)}
    return pipeline.publish(settings, window, args.next_file, args.run_id)


if __name__ == "__main__":
    sys.exit(main())
