"""Faulty industry packs: real pluggy plugins, each broken in one way a pack can be.

``install(directory)`` makes them installed packs for a ``goalgraph`` process whose
``PYTHONPATH`` holds ``directory`` and the repository: a distribution's metadata with
their ``goalgraph.packs`` entry points (importlib finds it like any installed one), and
a module that raises at import. Load-time faults (``LOAD_FAULTS``) are refused when the
server starts; request-time faults (``REQUEST_FAULTS``) load healthy and fail only when
a request reaches their code, for a KPI made from their template.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from goalgraph.core.enums import Direction
from goalgraph.plugins import (
    ContentPack,
    KpiTemplate,
    Label,
    PackInfo,
    ScoringPolicy,
    hookimpl,
)

#: How long a hanging hook sleeps: far beyond any time limit, short of forever.
HANG_SECONDS = 3600.0
#: ``chaos_score_raises``' policy fails on values above this (probes stay below).
EXPLODES_ABOVE = 100.0
IMPORT_ERROR = "chaos: this pack's module fails at import"


def _info(name: str) -> PackInfo:
    return PackInfo(
        name=name, version="0.0.1", title=Label(zh="故障包", en="Chaos pack"), industries=("chaos",)
    )


def _template(code: str, policy: str = "linear") -> KpiTemplate:
    return KpiTemplate(
        code=code,
        name=Label(zh="故障指标", en="Chaos metric"),
        unit="count",
        default_target=10,
        default_threshold=8,
        level="store",
        scoring_policy=policy,
    )


def _hang() -> None:
    threading.Event().wait(HANG_SECONDS)


class _Policy(ScoringPolicy):
    """A well-formed policy whose name each pack below sets."""

    name: ClassVar[str] = "chaos.policy"
    label: ClassVar[dict[str, str]] = {"zh": "故障策略", "en": "Chaos policy"}

    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        return max(0.0, min(1.2, self.achievement(value, target, direction)))


# -- faults at load time ------------------------------------------------------------------


class InfoRaises(ContentPack):
    @hookimpl
    def goalgraph_pack_info(self) -> PackInfo:
        raise RuntimeError("chaos: pack info is broken")


class TemplatesRaise(ContentPack):
    @hookimpl
    def goalgraph_kpi_templates(self) -> Sequence[KpiTemplate]:
        raise KeyError("chaos: templates are broken")


class Hangs(ContentPack):
    @hookimpl
    def goalgraph_okr_templates(self) -> Sequence[object]:
        _hang()
        return []


class Exits(ContentPack):
    @hookimpl
    def goalgraph_pack_info(self) -> PackInfo:
        sys.exit(3)


class Malformed(ContentPack):
    @hookimpl
    def goalgraph_kpi_templates(self) -> Sequence[object]:
        return [{"code": "Bad Code!", "name": "not a label", "unit": "parsecs", "level": 7}]


class NotAList(ContentPack):
    @hookimpl
    def goalgraph_scoring_policies(self) -> object:
        return 42


class _NaN(_Policy):
    name: ClassVar[str] = "chaos_nan.policy"

    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        return float("nan")


# -- faults at request time ---------------------------------------------------------------


class _Explodes(_Policy):
    name: ClassVar[str] = "chaos_score.explodes"

    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        if value > EXPLODES_ABOVE:
            raise ZeroDivisionError("chaos: the policy divides by zero on large values")
        return super().score(value, target, threshold, direction)


class _Looked(_Policy):
    name: ClassVar[str] = "chaos_lookup.policy"


class _Stuck(_Policy):
    name: ClassVar[str] = "chaos_stuck.policy"


class LookupRaises(ContentPack):
    """Its ``goalgraph_scoring_policy`` raises for its own policy's name."""

    @hookimpl
    def goalgraph_scoring_policy(self, name: str) -> ScoringPolicy | None:
        if name == _Looked.name:
            raise LookupError("chaos: the policy lookup is broken")
        return None


class LookupHangs(ContentPack):
    """Its ``goalgraph_scoring_policy`` hangs for its own policy's name."""

    @hookimpl
    def goalgraph_scoring_policy(self, name: str) -> ScoringPolicy | None:
        if name == _Stuck.name:
            _hang()
        return None


class CoursesRaise(ContentPack):
    """Its ``goalgraph_training_recommendations`` raises (used in one process only:
    a server test would need a KPI missed for weeks to reach it)."""

    @hookimpl
    def goalgraph_training_recommendations(self, kpi_code: str, misses: int) -> list[object]:
        raise RuntimeError("chaos: the course table is broken")


#: A retail KPI template with courses (``courses_raise`` is asked beside retail).
RETAIL_KPI_WITH_COURSES = "customer_wait_time"

info_raises = InfoRaises(_info("chaos_info_raises"))
templates_raise = TemplatesRaise(_info("chaos_templates_raise"))
hangs = Hangs(_info("chaos_hangs"))
exits = Exits(_info("chaos_exits"))
malformed = Malformed(_info("chaos_malformed"))
not_a_list = NotAList(_info("chaos_not_a_list"))
nan_policy = ContentPack(_info("chaos_nan_policy"), policies=[_NaN()])
score_raises = ContentPack(
    _info("chaos_score_raises"),
    kpi_templates=[_template("exploding", _Explodes.name)],
    policies=[_Explodes()],
)
lookup_raises = LookupRaises(
    _info("chaos_lookup_raises"),
    kpi_templates=[_template("looked_up", _Looked.name)],
    policies=[_Looked()],
)
courses_raise = CoursesRaise(_info("chaos_courses_raise"))
lookup_hangs = LookupHangs(
    _info("chaos_lookup_hangs"),
    kpi_templates=[_template("stuck", _Stuck.name)],
    policies=[_Stuck()],
)

#: Pack → the fault code it must be reported with, for the faults met at load.
LOAD_FAULTS = {
    "chaos_info_raises": "HOOK_RAISED",
    "chaos_templates_raise": "HOOK_RAISED",
    "chaos_hangs": "HOOK_TIMEOUT",
    "chaos_exits": "HOOK_RAISED",
    "chaos_malformed": "INVALID_CONTENT",
    "chaos_not_a_list": "INVALID_CONTENT",
    "chaos_nan_policy": "INVALID_CONTENT",
    "chaos_import": "IMPORT_FAILED",
}
#: Pack → (its KPI template, a value that reaches its fault, the fault code).
REQUEST_FAULTS = {
    "chaos_score_raises": ("exploding", 500.0, "HOOK_RAISED"),
    "chaos_lookup_raises": ("looked_up", 5.0, "HOOK_RAISED"),
    "chaos_lookup_hangs": ("stuck", 5.0, "HOOK_TIMEOUT"),
}
OBJECTS = {
    "chaos_info_raises": "info_raises",
    "chaos_templates_raise": "templates_raise",
    "chaos_hangs": "hangs",
    "chaos_exits": "exits",
    "chaos_malformed": "malformed",
    "chaos_not_a_list": "not_a_list",
    "chaos_nan_policy": "nan_policy",
    "chaos_score_raises": "score_raises",
    "chaos_lookup_raises": "lookup_raises",
    "chaos_lookup_hangs": "lookup_hangs",
}
BROKEN_MODULE = "chaos_broken_pack"


def install(directory: Path) -> None:
    """Write the chaos distribution's metadata and the module that fails at import."""
    dist = directory / "goalgraph_chaos_packs-0.0.1.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: goalgraph-chaos-packs\nVersion: 0.0.1\n"
    )
    points = [f"{name} = {__name__}:{obj}" for name, obj in OBJECTS.items()]
    points.append(f"chaos_import = {BROKEN_MODULE}:pack")
    (dist / "entry_points.txt").write_text(
        "[goalgraph.packs]\n" + "\n".join(points) + "\n", encoding="utf-8"
    )
    (directory / f"{BROKEN_MODULE}.py").write_text(f"raise ImportError({IMPORT_ERROR!r})\n")
