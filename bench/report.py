"""A run's figures: the printed table, the results file, and docs/performance.md.

The results file holds the machine (cores, CPU, memory, Python, SQLite and PostgreSQL
versions) and every figure; the docs get the same table between two markers, with
each goal of issue 12 judged pass or fail from the run's own ratios.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"
DOCS = ROOT.parent / "docs" / "performance.md"
BEGIN = "<!-- bench:begin (written by `make bench`; do not edit by hand) -->"
END = "<!-- bench:end -->"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) // 1024
    try:
        postgres = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", "SHOW server_version", "test"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except OSError:
        postgres = "unknown"
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_mb": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": postgres or "unknown",
        "platform": platform.platform(),
    }


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def line(row: dict[str, Any]) -> str:
    """One figure, as the run prints it."""
    head = f"{row['workload']:<12} {row['db']:<8} {row['size']:>4} {row['variant']:<16}"
    if "error" in row:
        return f"{head} API FAILED: {row['error'][:120]}"
    floor = row.get("floor", {})
    w = row["workload"]
    if w in ("goal_tree", "stage_switch"):
        return (
            f"{head} median {_ms(row['median_ms'])} ms, p95 {_ms(row['p95_ms'])} ms | floor "
            f"{_ms(floor['median_ms'])} / {_ms(floor['p95_ms'])} ms | {row['ratio']}×"
        )
    if w == "team":
        return (
            f"{head} {row['rps']} req/s p50 {_ms(row['p50_ms'])} p95 {_ms(row['p95_ms'])} "
            f"p99 {_ms(row['p99_ms'])} ms | floor {floor['rps']} req/s p50 "
            f"{_ms(floor['p50_ms'])} p95 {_ms(floor['p95_ms'])} p99 {_ms(floor['p99_ms'])} ms | "
            f"req/s {row['rps_ratio']}, p99 {row['p99_ratio']}×"
        )
    if w == "ingest":
        return (
            f"{head} {row['rows']:,} rows in {row['seconds']} s = {row['rows_per_s']:,.0f} rows/s"
            f" | floor {floor['rows_per_s']:,.0f} rows/s | {row['ratio']}"
        )
    return (
        f"{head} peak RSS {row['peak_rss_mb']} MiB | floor {floor['peak_rss_mb']} MiB | "
        f"{row['ratio']}× ({row['check']})"
    )


def _cells(row: dict[str, Any]) -> tuple[str, str, str, str]:
    """(figure, floor, ratio, note) for the markdown table."""
    floor = row.get("floor", {})
    w = row["workload"]
    if "error" in row:
        return ("fails", f"{_ms(floor['median_ms'])} ms", "—", row["error"][:90])
    if w in ("goal_tree", "stage_switch"):
        return (
            f"{_ms(row['median_ms'])} / {_ms(row['p95_ms'])} ms",
            f"{_ms(floor['median_ms'])} / {_ms(floor['p95_ms'])} ms",
            f"{row['ratio']}×",
            f"median / p95 of {row['n']}",
        )
    if w == "team":
        return (
            f"{row['rps']} req/s; p50 {_ms(row['p50_ms'])}, p95 {_ms(row['p95_ms'])}, "
            f"p99 {_ms(row['p99_ms'])} ms",
            f"{floor['rps']} req/s; p50 {_ms(floor['p50_ms'])}, p95 {_ms(floor['p95_ms'])}, "
            f"p99 {_ms(floor['p99_ms'])} ms",
            f"{row['rps_ratio']} of req/s; p99 {row['p99_ratio']}×",
            f"{row['requests']:,} requests, 16 clients",
        )
    if w == "ingest":
        return (
            f"{row['rows_per_s']:,.0f} rows/s",
            f"{floor['rows_per_s']:,.0f} rows/s",
            f"{row['ratio']}",
            f"{row['rows']:,} rows in {row['seconds']} s",
        )
    return (
        f"{row['peak_rss_mb']} MiB",
        f"{floor['peak_rss_mb']} MiB",
        f"{row['ratio']}×",
        f"whole tree {row['tree_ms']:,.0f} ms (floor {row['floor_tree_ms']:,.0f} ms)"
        if row["check"] == "equal"
        else row["check"][:90],
    )


def table(results: list[dict[str, Any]]) -> str:
    """The markdown table of a run's figures."""
    out = [
        "| workload | db | size | variant | goalgraph | floor | ratio | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results:
        cells = _cells(row)
        out.append(
            f"| {row['workload']} | {row['db']} | {row['size']} | {row['variant']} | "
            + " | ".join(c.replace("|", "\\|") for c in cells)
            + " |"
        )
    return "\n".join(out)


def _find(results: list[dict[str, Any]], **where: str) -> list[dict[str, Any]]:
    return [r for r in results if all(r.get(k) == v for k, v in where.items())]


def goals(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 12's goals, judged per database from this run's ratios (None: not run)."""
    judged = []
    for db in ("sqlite", "postgres"):

        def goal(name: str, target: str, figure: str, ok: bool | None) -> None:
            judged.append({"goal": name, "db": db, "target": target, "figure": figure, "pass": ok})  # noqa: B023

        tree10 = _find(results, workload="goal_tree", db=db, size="10k")
        tree100 = _find(results, workload="goal_tree", db=db, size="100k")
        if tree10 and "ratio" in tree10[0]:
            ratio = tree10[0]["ratio"]
            goal("goalTree at 10k", "≤ 3× floor (stretch 2×)", f"{ratio}×", ratio <= 3)
        if tree10 and tree100:
            if "error" in tree100[0]:
                goal("goalTree 10k → 100k", "no faster than linear", "fails at 100k", False)
            elif "median_ms" in tree10[0]:
                growth = tree100[0]["median_ms"] / tree10[0]["median_ms"]
                nodes = 100105 / 10015
                goal(
                    "goalTree 10k → 100k",
                    f"≤ {nodes * 1.05:.1f}× time (nodes ×{nodes:.1f}, +5% for noise)",
                    f"{growth:.1f}×",
                    growth <= nodes * 1.05,
                )
        teams = _find(results, workload="team", db=db)
        if teams:
            row = max(teams, key=lambda r: ("1k", "10k", "100k").index(r["size"]))
            ok = row["rps_ratio"] >= 1 / 3 and row["p99_ratio"] <= 4
            goal(
                f"team query over HTTP ({row['size']})",
                "≥ 1/3 of floor req/s, p99 ≤ 4×",
                f"{row['rps_ratio']} of req/s, p99 {row['p99_ratio']}×",
                ok,
            )
        for row in _find(results, workload="ingest", db=db):
            goal(
                f"ingest {row['variant']} ({row['size']})",
                "≥ 1/2 of floor rows/s",
                f"{row['ratio']}",
                row["ratio"] >= 0.5,
            )
        switches = {
            r["size"]: r for r in _find(results, workload="stage_switch", db=db, variant="switch")
        }
        if "100k" in switches:
            big = switches["100k"]["median_ms"]
            small = switches.get("1k", {}).get("median_ms")
            figure = f"{big} ms" + (f" (1k: {small} ms)" if small else "")
            ok = big <= 50 and (small is None or big <= 1.5 * small)
            goal("stage switch (100k)", "≤ 50 ms, and within 1.5× of the 1k tenant's", figure, ok)
        for row in _find(results, workload="memory", db=db):
            goal(
                f"peak memory ({row['size']})",
                "≤ 1.5× floor",
                f"{row['ratio']}×",
                row["ratio"] <= 1.5,
            )
    return judged


def goals_table(judged: list[dict[str, Any]]) -> str:
    out = ["| goal | db | target | this run | met |", "|---|---|---|---|---|"]
    for g in judged:
        met = "—" if g["pass"] is None else ("yes" if g["pass"] else "**no**")
        out.append(f"| {g['goal']} | {g['db']} | {g['target']} | {g['figure']} | {met} |")
    return "\n".join(out)


def document(
    results: list[dict[str, Any]], elapsed: float, failures: list[str], ci: bool = False
) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "ci": ci,
        "seconds": round(elapsed, 1),
        "wrong_answers": failures,
        "results": results,
        "goals": goals(results),
    }


def save(doc: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = doc["date"].replace(":", "").replace("+0000", "Z")
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def block(doc: dict[str, Any]) -> str:
    """What goes between the markers of docs/performance.md."""
    m = doc["machine"]
    return "\n".join(
        [
            BEGIN,
            f"Run of {doc['date']} ({doc['seconds']:.0f} s including seeding), on {m['cores']} "
            f"cores of {m['cpu']}, {m['memory_mb'] // 1024} GiB, Python {m['python']}, "
            f"SQLite {m['sqlite']}, PostgreSQL {m['postgres']}.",
            "",
            table(doc["results"]),
            "",
            "Goals of issue 12, judged from this run:",
            "",
            goals_table(doc["goals"]),
            END,
        ]
    )


def write_docs(doc: dict[str, Any], path: Path = DOCS) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + block(doc) + text[end:], encoding="utf-8")
