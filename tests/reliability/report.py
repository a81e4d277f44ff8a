"""``python -m tests.reliability.report FIGURES.json``: the table of docs/reliability.md.

Figures are grouped by section in the order of the sections below, one column per
database; a must-be-zero figure that is not zero is marked, and the run's pytest exit
status is stated, so the page never shows a green table of a failed run.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.report import machine

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
BEGIN = "<!-- reliability:begin (written by `make reliability`; do not edit by hand) -->"
END = "<!-- reliability:end -->"

#: Sections in the page's order; a section not listed comes after these.
SECTIONS = (
    "fuzzing",
    "cross-tenant probes",
    "subscription isolation",
    "chaos packs",
    "concurrency",
    "audit",
    "secrets",
    "abuse",
)
DBS = ("sqlite", "postgres", "any")


def _value(figure: dict[str, Any]) -> str:
    value = figure["value"]
    text = f"{value:,}" if isinstance(value, int) or float(value).is_integer() else f"{value:,.1f}"
    if isinstance(value, float) and value.is_integer():
        text = f"{int(value):,}"
    unit = figure.get("unit") or ""
    cell = f"{text} {unit}".strip()
    if figure.get("must_be_zero") and value != 0:
        cell += " **(must be 0)**"
    return cell


def table(figures: list[dict[str, Any]]) -> str:
    """Markdown: one row per (section, figure), one column per database."""
    rows: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    order: dict[tuple[str, str], int] = {}
    for i, figure in enumerate(figures):
        key = (figure["section"], figure["name"])
        rows[key][figure["db"]] = figure
        order.setdefault(key, i)
    used = [db for db in DBS if any(db in cells for cells in rows.values())]
    rank = {s: i for i, s in enumerate(SECTIONS)}
    keys = sorted(rows, key=lambda k: (rank.get(k[0], len(SECTIONS)), order[k]))
    header = "| section | figure | " + " | ".join(_column(db) for db in used) + " | must be |"
    out = [header, "|---|---|" + "---|" * len(used) + "---|"]
    for section, name in keys:
        cells = rows[(section, name)]
        must = any(f.get("must_be_zero") for f in cells.values())
        values = " | ".join(_value(cells[db]) if db in cells else "—" for db in used)
        out.append(f"| {section} | {name} | {values} | {'0' if must else ''} |")
    return "\n".join(out)


def _column(db: str) -> str:
    return {"sqlite": "SQLite", "postgres": "PostgreSQL", "any": "either"}[db]


def render(payload: dict[str, Any], when: datetime) -> str:
    """The block between the markers: when, where, at what size, and the table."""
    m = machine()
    failed = [f for f in payload["figures"] if f.get("must_be_zero") and f["value"] != 0]
    status = (
        "every must-be-0 figure is 0"
        if not failed and payload.get("exitstatus", 0) == 0
        else f"**{len(failed)} must-be-0 figures are not 0; pytest exit status "
        f"{payload.get('exitstatus')}**"
    )
    return "\n".join(
        [
            BEGIN,
            "",
            f"Run of {when:%Y-%m-%d %H:%M} UTC at size `{payload['size']}` on {m['cores']} cores "
            f"({m['cpu']}, {m['memory_mb']:,} MiB), Python {m['python']}, SQLite {m['sqlite']}, "
            f"PostgreSQL {m['postgres']}: {status}.",
            "",
            table(payload["figures"]),
            "",
            END,
        ]
    )


def write(payload: dict[str, Any], docs: Path = DOCS) -> None:
    text = docs.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    block = render(payload, datetime.now(UTC))
    docs.write_text(head + block + tail, encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.reliability.report FIGURES.json", file=sys.stderr)
        return 2
    payload = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    write(payload)
    print(table(payload["figures"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
