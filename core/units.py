"""Units a KPI or key result may be measured in.

A closed list, so that templates from different packs agree on spelling ("min", not
"minutes" in one pack and "mins" in another) and a typo in a pack is caught when it
loads rather than when a chart shows two axes.
"""

from __future__ import annotations

KNOWN_UNITS: frozenset[str] = frozenset(
    {
        # money
        "CNY", "CNY/m²", "CNY/person", "CNY/piece",
        # counts
        "persons", "orders", "pieces", "items", "units", "stores", "cities", "customers",
        "releases", "features", "incidents", "bugs", "experiments", "patents", "courses",
        "complaints", "users", "tickets", "times", "count",
        # time
        "min", "hours", "days", "seconds", "ms",
        # ratios and scores
        "%", "ratio", "score", "NPS", "stars",
    }
)  # fmt: skip


def is_known_unit(unit: str) -> bool:
    return unit in KNOWN_UNITS
