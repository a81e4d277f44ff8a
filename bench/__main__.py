"""``python -m bench``: goalgraph measured against floors measured in the same run.

    python -m bench run                                   # everything (make bench)
    python -m bench run --ci                              # 1k only, short (make bench-ci)
    python -m bench run --workload goal_tree --size 10k --db sqlite
    python -m bench run --workload ingest --size 10k --db postgres --ingest-budget 60
    python -m bench workers --counts 1,2,4                # goalgraph serve --workers N

Workloads: goal_tree (a), team (b), ingest (c), stage_switch (d), memory (e, the team
workload's servers at that size plus one whole tree). A run prints a table, saves
its figures to bench/results/<date>-<time>.json (``--no-save`` not), and with
``--docs`` writes the table into docs/performance.md. A wrong answer anywhere exits 1;
slowness never fails a run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from . import report, seed, workers
from .shape import SIZES
from .workloads import Options, WrongAnswer, goal_tree, ingest, stage_switch, team

WORKLOADS = ("goal_tree", "team", "ingest", "stage_switch", "memory")
#: Where each workload runs by default (ingest on the middle size; memory on the largest,
#: the stage switch there and on the smallest, to see whether it depends on the size).
DEFAULT_SIZES: dict[str, tuple[str, ...]] = {
    "goal_tree": ("1k", "10k", "100k"),
    "team": ("1k", "10k"),
    "ingest": ("10k",),
    "stage_switch": ("1k", "100k"),
    "memory": ("100k",),
}


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run workloads and report")
    run.add_argument(
        "--workload",
        type=_list,
        default=list(WORKLOADS),
        help=f"comma-separated, of {', '.join(WORKLOADS)}",
    )
    run.add_argument(
        "--size",
        type=_list,
        default=None,
        help=f"comma-separated, of {', '.join(SIZES)} (default: per workload)",
    )
    run.add_argument("--db", type=_list, default=["sqlite", "postgres"])
    run.add_argument("--ci", action="store_true", help="the 1k tenant only, short budgets")
    run.add_argument("--repeat", type=int, help="goal_tree timing runs per size")
    run.add_argument("--duration", type=float, help="seconds of load per server (team)")
    run.add_argument("--ingest-rows", type=int)
    run.add_argument("--ingest-budget", type=float, help="seconds per ingest variant")
    run.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    run.add_argument("--docs", action="store_true", help="write the table into the docs")
    scale = sub.add_parser("workers", help="the team query against serve --workers N")
    scale.add_argument("--size", default="10k", choices=SIZES)
    scale.add_argument("--counts", type=_list, default=["1", "2", "4"])
    scale.add_argument("--duration", type=float, default=8.0)
    scale.add_argument("--docs", action="store_true", help="write the table into the docs")
    return parser.parse_args(argv)


def options_of(args: argparse.Namespace) -> Options:
    options = Options()
    if args.ci:
        options = Options(
            repeat={"1k": 3}, duration=2.0, ingest_rows=3000, ingest_budget=4.0, switches=2
        )
    if args.repeat:
        options.repeat = dict.fromkeys(SIZES, args.repeat)
    if args.duration:
        options.duration = args.duration
    if args.ingest_rows:
        options.ingest_rows = args.ingest_rows
    if args.ingest_budget:
        options.ingest_budget = args.ingest_budget
    return options


def plan(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """(workload, size, db) in running order: each database's sizes together, so a
    server's cache stays warm and seeded databases are made once."""
    steps = []
    for db in args.db:
        for workload in args.workload:
            if workload not in WORKLOADS:
                raise SystemExit(f"unknown workload {workload!r} (known: {', '.join(WORKLOADS)})")
            sizes = ("1k",) if args.ci else DEFAULT_SIZES[workload]
            for size in args.size or sizes:
                if size not in SIZES:
                    raise SystemExit(f"unknown size {size!r} (known: {', '.join(SIZES)})")
                steps.append((workload, size, db))
    return steps


async def run(args: argparse.Namespace) -> int:
    options = options_of(args)
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    failures: list[str] = []
    for workload, size, db in plan(args):
        print(f"{workload} {size} {db}", flush=True)
        target = await seed.ensure(db, size)
        step = time.perf_counter()
        try:
            if workload == "goal_tree":
                rows = await goal_tree(target, options)
            elif workload == "team":
                rows = await team(target, options)
            elif workload == "memory":
                rows = await team(target, options, memory=True)
            elif workload == "ingest":
                rows = await ingest(target, options)
            else:
                rows = await stage_switch(target, options)
        except WrongAnswer as exc:
            failures.append(f"{workload} {size} {db}: {exc}")
            print(f"  WRONG ANSWER: {exc}", flush=True)
            continue
        for row in rows:
            row["seconds_total"] = round(time.perf_counter() - step, 1)
            print("  " + report.line(row), flush=True)
        results.extend(rows)
    elapsed = time.perf_counter() - started
    document = report.document(results, elapsed, failures, ci=args.ci)
    print()
    print(report.table(results))
    print(
        f"\n{len(results)} figures in {elapsed:.0f} s"
        + (f", {len(failures)} WRONG" if failures else "")
    )
    if not args.no_save:
        print(f"results: {report.save(document)}")
    if args.docs:
        report.write_docs(document)
        print("docs/performance.md updated")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.command == "workers":
        counts = [int(c) for c in args.counts]
        return asyncio.run(workers.run(args.size, counts, args.duration, args.docs))
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
