"""CLI: python -m expectations landing|marts --landing/--warehouse PATH
--start YYYY-MM-DD --end YYYY-MM-DD --data-docs DIR.

Prints the gate summary; exit code 1 when a blocking check fails.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expectations", description=__doc__)
    sub = parser.add_subparsers(dest="gate", required=True)
    for gate, flag, help_ in (
        ("landing", "--landing", "landing root folder"),
        ("marts", "--warehouse", "DuckDB warehouse file"),
    ):
        p = sub.add_parser(gate, help=f"run the {gate} gate")
        p.add_argument(flag, dest="path", type=Path, required=True, help=help_)
        p.add_argument("--start", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
        p.add_argument(
            "--end", type=date.fromisoformat, required=True, help="YYYY-MM-DD, exclusive"
        )
        p.add_argument("--data-docs", type=Path, required=True, help="data docs output folder")
    args = parser.parse_args(argv)

    import expectations

    run = expectations.run_landing_gate if args.gate == "landing" else expectations.run_marts_gate
    try:
        result = run(args.path, args.start, args.end, data_docs_dir=args.data_docs)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result.summary())
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
