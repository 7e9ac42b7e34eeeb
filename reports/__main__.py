"""Render the reports from the published warehouse, without Airflow.

    python -m reports weekly --week 2026-W43 [--team T ...] [--send]
    python -m reports leadership --month 2026-10 | --week 2026-W43 [--send]
    python -m reports index
    python -m reports dashboard

Reads $COSTBRIDGE_HOME (default <repo>/.costbridge; --home overrides) and dbt's
semantic manifest where dbt build leaves it
(<home>/warehouse/build/dbt/target/semantic_manifest.json; --manifest overrides).
Reports are written under <home>/reports/<kind>/<period>/ with an index page.
--send mails them over the Airflow Connection costbridge_smtp (AIRFLOW_CONN_COSTBRIDGE_SMTP
outside Airflow) through the alerts' delivery log, so nothing is mailed twice.
See docs/leadership.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _settings(home: str | None):
    from warehouse.settings import Settings

    settings = Settings.from_env()
    if home:
        settings = Settings(home=Path(home).resolve(), sources_file=settings.sources_file)
    return settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reports",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--home", help="COSTBRIDGE_HOME (default: the environment)")
    parser.add_argument("--manifest", type=Path, help="dbt's semantic_manifest.json")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("weekly", help="each team's weekly report for one week")
    w.add_argument("--week", required=True, help="2026-W43 or any day of the week")
    w.add_argument("--team", action="append", help="only this team (repeatable)")
    w.add_argument("--send", action="store_true", help="mail each report to its team lead")
    lead = sub.add_parser("leadership", help="the leadership ROI report for a week or a month")
    which = lead.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", help="2026-10 or any day of the month")
    which.add_argument("--week", help="2026-W43 or any day of the week")
    lead.add_argument("--send", action="store_true", help="mail it to report_recipients")
    sub.add_parser("index", help="rewrite <home>/reports/index.html")
    sub.add_parser("dashboard", help="the cost dashboard (reports/dashboard.py)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    for chatty in ("weasyprint", "fontTools"):  # a line per layout step otherwise
        logging.getLogger(chatty).setLevel(logging.WARNING)
    settings = _settings(args.home)

    from reports.marts import MartColumnMissing, NoPublishedData, Period
    from reports.run import describe, index, leadership_report, weekly_reports

    try:
        if args.command == "weekly":
            runs = weekly_reports(
                settings,
                Period.parse("week", args.week),
                manifest=args.manifest,
                teams=args.team,
                send=args.send,
            )
        elif args.command == "leadership":
            period = (
                Period.parse("month", args.month) if args.month else Period.parse("week", args.week)
            )
            runs = [leadership_report(settings, period, manifest=args.manifest, send=args.send)]
        elif args.command == "index":
            print(index(settings))
            return 0
        else:
            # Written beside this module by the dashboard's own work; imported only here.
            try:
                from reports.dashboard import write_dashboard
            except ImportError as missing:
                print(f"reports: the dashboard is not available here ({missing})", file=sys.stderr)
                return 2
            print(write_dashboard(settings))
            return 0
    except (NoPublishedData, MartColumnMissing, ValueError) as error:
        print(f"reports: {error}", file=sys.stderr)
        return 1
    for run in runs:
        print(describe(run))
    print(f"index: {settings.home / 'reports' / 'index.html'}")
    return 1 if any(run.failed for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
