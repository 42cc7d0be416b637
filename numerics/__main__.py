"""Command line: ``python -m numerics {reproduce,claims,bench,list}``."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m numerics", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("reproduce", help="run every claim and notebook, write reports/")
    p.add_argument("--full", action="store_true", default=None, help="paper-scale sizes (or NUMERICS_FULL=1)")
    p.add_argument("--only", nargs="+", metavar="ID", help="run only these claims")
    p.add_argument("--no-notebooks", action="store_true", help="skip executing the notebooks")

    p = sub.add_parser("claims", help="run claim checks and print the table")
    p.add_argument("--full", action="store_true", default=None, help="paper-scale sizes (or NUMERICS_FULL=1)")
    p.add_argument("--only", nargs="+", metavar="ID", help="run only these claims")
    p.add_argument("-v", "--verbose", action="store_true", help="print every compared quantity")

    sub.add_parser("list", help="list registered claims")

    p = sub.add_parser("bench", help="timings with ratios against same-run baselines")
    p.add_argument("--full", action="store_true", help="more sizes and repeats")
    p.add_argument("--only", nargs="+", metavar="TOPIC", help="topics to run (e.g. hadamard jl)")
    p.add_argument("--json", metavar="PATH", help="where to write the JSON (default reports/bench.json)")

    args = parser.parse_args(argv)

    if args.command == "reproduce":
        from .reproduce import reproduce

        return reproduce(full=args.full, only=args.only, notebooks=not args.no_notebooks)
    if args.command == "claims":
        from .claims import _registry
        from .reproduce import run_claims, write_report

        records = run_claims(args.only, full=args.full)
        if args.verbose:
            for r in records:
                print(f"{r['id']}: {'PASS' if r['passed'] else 'FAIL'}")
                for part in r["parts"]:
                    print(f"    {'ok ' if part['passed'] else 'BAD'} {part['name']}: {part['observed']:.6g} {part['relation']} {part['bound']}")
                if r.get("note"):
                    print(f"    note: {r['note']}")
        if args.only:
            print(_registry.format_table(records))
        else:
            print(write_report(records))
        return 0 if all(r["passed"] for r in records) else 1
    if args.command == "list":
        from .claims import all_claims

        for c in all_claims():
            print(f"{c.id:28s} [{c.paper}] {c.title}\n{'':28s} {c.statement}\n{'':28s} theory: {c.theory}  notebook: {c.notebook}")
        return 0
    if args.command == "bench":
        from .bench import main as bench_main

        return bench_main(quick=not args.full, only=args.only, json_path=args.json)
    return 2


if __name__ == "__main__":
    sys.exit(main())
