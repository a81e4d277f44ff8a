"""The floors: the same answers as the API, from hand-written SQL, plain dicts and orjson.

A floor is what any server on this machine must at least spend on an answer: the
rows it needs, read by the driver itself (``sqlite3``; asyncpg connected as the app's
role, under the same row-level security), shaped into nested dicts and serialised.
Progress, grades and scorecards are computed here by the documented rules
(docs/scoring.md) with nothing of goalgraph's code, so a floor that agrees with the API
is an independent check of its answers, and the harness asserts that it does.

Floats are summed in the order the engine sums them (parts by id), so the answers are
equal, not merely close.
"""

from __future__ import annotations

import base64
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
import orjson

from .shape import CYCLE_ID, TENANT_ID

#: The built-in stages' OKR shares (core/stages.py's presets).
PRESETS = {"startup": 0.7, "growth": 0.5, "mature": 0.3}

Row = Sequence[Any]


class Raw(Protocol):
    """A database connection that runs SQL written with ``?`` placeholders."""

    async def fetch(self, sql: str, *params: Any) -> list[Row]: ...

    def in_(self, column: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
        """``column IN (values)``, as the dialect spells a list parameter."""
        ...


class SqliteRaw:
    """The floor on SQLite: the stdlib driver, synchronous (nothing to wait for)."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, check_same_thread=False)

    async def fetch(self, sql: str, *params: Any) -> list[Row]:
        return self.conn.execute(sql, params).fetchall()

    def in_(self, column: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
        found = list(values)
        if not found:
            return "1 = 0", []
        return f"{column} IN ({', '.join('?' for _ in found)})", found

    async def close(self) -> None:
        self.conn.close()


def _numbered(sql: str) -> str:
    parts = sql.split("?")
    return "".join(p + (f"${i}" if i < len(parts) else "") for i, p in enumerate(parts, 1))


class PostgresRaw:
    """The floor on PostgreSQL: asyncpg as the app's role, bound to the tenant for the
    session, so row-level security filters its reads as it filters the app's."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.sql: dict[str, str] = {}

    @classmethod
    async def connect(cls, dsn: str, size: int = 4) -> PostgresRaw:
        async def bind(conn: asyncpg.Connection) -> None:
            await conn.execute(f"SELECT set_config('goalgraph.tenant_id', '{TENANT_ID}', false)")

        async def keep(conn: asyncpg.Connection) -> None:
            """The pool's reset would drop the binding; the floor serves one tenant."""

        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=size, init=bind, reset=keep)
        assert pool is not None
        return cls(pool)

    async def fetch(self, sql: str, *params: Any) -> list[Row]:
        text = self.sql.get(sql)
        if text is None:
            text = self.sql[sql] = _numbered(sql)
        return list(await self.pool.fetch(text, *params))

    def in_(self, column: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [list(values)]

    async def close(self) -> None:
        await self.pool.close()


def global_id(type_name: str, node_id: int) -> str:
    """relay's global id: base64 of ``Type:id``."""
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


# -- the rules, written out ----------------------------------------------------------------


def clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def weighted_mean(pairs: Iterable[tuple[float | None, float]]) -> float | None:
    known = [(v, w) for v, w in pairs if v is not None and w > 0]
    total = sum(w for _, w in known)
    return sum(v * w for v, w in known) / total if known and total else None


def achievement(value: float, target: float, direction: str) -> float:
    if direction == "lower_is_better":
        return target / value if value > 0 else 2.0
    if target == 0:
        return 1.0 if value >= 0 else 0.0
    return value / target


def policy_score(
    policy: str, value: float, target: float, threshold: float, direction: str
) -> float:
    """The core policies: ``linear`` (capped at 1.2), ``pass_fail``, ``banded``."""
    rate = achievement(value, target, direction)
    if policy == "pass_fail":
        passed = value <= threshold if direction == "lower_is_better" else value >= threshold
        return 1.0 if passed else 0.0
    if policy == "banded":
        if rate < 0.8:
            return 0.0
        return rate if rate <= 1.0 else min(1.2, 1.0 + 0.5 * (rate - 1.0))
    return max(0.0, min(1.2, rate))


# -- goalTree -------------------------------------------------------------------------------

_ACTIVE_TREE = "o.tenant_id = ? AND o.status = 'active'"


@dataclass
class TreeRows:
    objectives: list[Row]
    key_results: list[Row]
    links: list[Row]
    kpis: list[Row]
    units: dict[int, str]
    people: dict[int, str]
    scores: dict[tuple[str, int], float | None]


async def tree_rows(raw: Raw, root_id: int | None = None) -> TreeRows:
    """The rows of the whole tree (or the subtree under ``root_id``)."""
    where, params = _ACTIVE_TREE, [TENANT_ID]
    if root_id is not None:
        (path,) = await raw.fetch("SELECT path FROM objective WHERE id = ?", root_id)
        where += " AND o.path LIKE ?"
        params.append(path[0] + "%")
    objectives = await raw.fetch(
        "SELECT o.id, o.parent_id, o.title, o.title_en, o.owner_unit_id, o.owner_person_id, "
        f"o.alignment_weight, o.cycle_id FROM objective o WHERE {where} ORDER BY o.id",
        *params,
    )
    key_results = await raw.fetch(
        "SELECT k.id, k.objective_id, k.title, k.title_en, k.owner_unit_id, k.owner_person_id, "
        "k.start_value, k.target_value, k.current_value, k.weight FROM key_result k "
        f"JOIN objective o ON o.id = k.objective_id WHERE {where} AND k.status = 'active' "
        "ORDER BY k.id",
        *params,
    )
    linked = (
        "FROM kpi_link l JOIN key_result k ON k.id = l.key_result_id "
        "JOIN objective o ON o.id = k.objective_id JOIN kpi p ON p.id = l.kpi_id "
        f"WHERE {where} AND k.status = 'active' AND p.status = 'active'"
    )
    links = await raw.fetch(
        f"SELECT l.key_result_id, l.kpi_id, l.weight {linked} ORDER BY l.id", *params
    )
    kpis = await raw.fetch(
        "SELECT id, title, title_en, owner_unit_id, owner_person_id, current_value, target, "
        "threshold, direction, scoring_policy FROM kpi "
        f"WHERE id IN (SELECT l.kpi_id {linked})",
        *params,
    )
    unit_ids = {r[4] for rows in (objectives, key_results, kpis) for r in rows} - {None}
    person_ids = {r[5] for rows in (objectives, key_results, kpis) for r in rows} - {None}
    units, people = await names(raw, unit_ids, person_ids)
    cycles = {r[7] for r in objectives}
    in_cycles, cycle_params = raw.in_("cycle_id", cycles)
    scored = await raw.fetch(
        f"SELECT kind, node_id, score FROM score WHERE tenant_id = ? AND {in_cycles} "
        "AND kind IN ('objective', 'key_result')",
        TENANT_ID,
        *cycle_params,
    )
    scores = {(r[0], r[1]): r[2] for r in scored}
    return TreeRows(objectives, key_results, links, kpis, units, people, scores)


async def names(
    raw: Raw, unit_ids: Iterable[int], person_ids: Iterable[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """The names of the owning units and people."""
    in_units, unit_params = raw.in_("id", unit_ids)
    in_people, person_params = raw.in_("id", person_ids)
    units = await raw.fetch(
        f"SELECT id, name FROM org_unit WHERE tenant_id = ? AND {in_units}",
        TENANT_ID,
        *unit_params,
    )
    people = await raw.fetch(
        f"SELECT id, name FROM person WHERE tenant_id = ? AND {in_people}",
        TENANT_ID,
        *person_params,
    )
    return {r[0]: r[1] for r in units}, {r[0]: r[1] for r in people}


def tree_json(rows: TreeRows, levels: int, root_id: int | None = None) -> list[dict[str, Any]]:
    """``goalTree``'s answer for bench/goal_tree.py's fragment: ``levels`` node levels,
    each with id, kind, titles, progress, score and owner (and a KPI's value, target
    and threshold), children nested below all but the last level."""
    by_id = {r[0]: r for r in rows.objectives}
    children: dict[int, list[int]] = defaultdict(list)
    for r in rows.objectives:
        if r[1] in by_id:
            children[r[1]].append(r[0])
    krs_of: dict[int, list[Row]] = defaultdict(list)
    for r in rows.key_results:
        krs_of[r[1]].append(r)
    links_of: dict[int, list[Row]] = defaultdict(list)
    for r in rows.links:
        links_of[r[0]].append(r)
    kpis = {r[0]: r for r in rows.kpis}

    def owner(unit_id: int | None, person_id: int | None) -> dict[str, Any]:
        if unit_id is not None:
            return {"name": rows.units[unit_id]}
        assert person_id is not None
        return {"name": rows.people[person_id]}

    # progress: each KPI's newest value as clamped achievement, rolled up by weight
    kpi_progress = {
        k[0]: clamp(achievement(k[5], k[6], k[8])) if k[5] is not None else None for k in rows.kpis
    }
    kr_progress: dict[int, float] = {}
    for r in rows.key_results:
        parts = sorted(links_of.get(r[0], []), key=lambda link: link[1])
        fed = weighted_mean((kpi_progress[link[1]], link[2]) for link in parts)
        if fed is not None:
            kr_progress[r[0]] = clamp(fed)
        else:
            span = r[7] - r[6]
            kr_progress[r[0]] = 1.0 if span == 0 else clamp((r[8] - r[6]) / span)
    objective_progress: dict[int, float | None] = {}

    def progress_of(objective_id: int) -> float | None:
        if objective_id not in objective_progress:
            parts: list[tuple[float | None, float]] = [
                (kr_progress[k[0]], k[9]) for k in krs_of.get(objective_id, [])
            ]
            parts += [(progress_of(c), by_id[c][6]) for c in children.get(objective_id, [])]
            objective_progress[objective_id] = weighted_mean(parts)
        return objective_progress[objective_id]

    def kpi_node(k: Row, below: int) -> dict[str, Any]:
        score = policy_score(k[9], k[5], k[6], k[7], k[8]) if k[5] is not None else None
        node = {
            "id": global_id("Kpi", k[0]),
            "kind": "KPI",
            "title": k[1],
            "titleEn": k[2],
            "progress": kpi_progress[k[0]],
            "score": score,
            "owner": owner(k[3], k[4]),
            "currentValue": k[5],
            "target": k[6],
            "threshold": k[7],
        }
        if below:
            node["children"] = []
        return node

    def kr_node(r: Row, below: int) -> dict[str, Any]:
        node = {
            "id": global_id("KeyResult", r[0]),
            "kind": "KEY_RESULT",
            "title": r[2],
            "titleEn": r[3],
            "progress": kr_progress[r[0]],
            "score": rows.scores.get(("key_result", r[0])),
            "owner": owner(r[4], r[5]),
        }
        if below:
            node["children"] = [kpi_node(kpis[link[1]], below - 1) for link in links_of[r[0]]]
        return node

    def objective_node(objective_id: int, below: int) -> dict[str, Any]:
        r = by_id[objective_id]
        node = {
            "id": global_id("Objective", r[0]),
            "kind": "OBJECTIVE",
            "title": r[2],
            "titleEn": r[3],
            "progress": progress_of(r[0]),
            "score": rows.scores.get(("objective", r[0])),
            "owner": owner(r[4], r[5]),
        }
        if below:
            node["children"] = [
                *(objective_node(c, below - 1) for c in children.get(objective_id, [])),
                *(kr_node(k, below - 1) for k in krs_of.get(objective_id, [])),
            ]
        return node

    roots = (
        [root_id] if root_id is not None else [r[0] for r in rows.objectives if r[1] not in by_id]
    )
    return [objective_node(r, levels - 1) for r in roots if r in by_id]


async def goal_tree(raw: Raw, levels: int = 7) -> bytes:
    """Workload a's floor: the whole tree as the API's ``data`` JSON."""
    rows = await tree_rows(raw)
    return orjson.dumps({"goalTree": tree_json(rows, levels)})


# -- scorecards and rankings ---------------------------------------------------------------


@dataclass
class Card:
    okr_grade: float | None
    kpi_score: float | None
    combined: float | None
    objectives: list[tuple[Row, float | None]]
    key_results: list[tuple[Row, float | None]]
    kpis: list[tuple[Row, float | None]]


async def shares(raw: Raw) -> tuple[str, float, float]:
    """The tenant's stage and its OKR and KPI shares (its own weighting, else the preset)."""
    ((stage,),) = await raw.fetch("SELECT lifecycle_stage FROM tenant WHERE id = ?", TENANT_ID)
    own = await raw.fetch(
        "SELECT okr_share FROM stage_weighting WHERE tenant_id = ? AND stage = ?",
        TENANT_ID,
        stage,
    )
    okr = own[0][0] if own else PRESETS.get(stage, 0.5)
    return stage, okr, round(1.0 - okr, 10)


class Owned:
    """Goals owned by a set of units and people, with their stored grades and scores."""

    def __init__(
        self,
        objectives: list[Row],
        key_results: list[Row],
        kpis: list[Row],
        scores: dict[tuple[str, int], tuple[float | None, float | None]],
    ) -> None:
        self.objectives, self.key_results, self.kpis = objectives, key_results, kpis
        self.scores = scores

    @classmethod
    async def load(cls, raw: Raw, unit_ids: set[int], person_ids: set[int]) -> Owned:
        """Active goals of the cycle owned by ``unit_ids`` or ``person_ids``."""
        in_u, pu = raw.in_("x.owner_unit_id", unit_ids)
        in_p, pp = raw.in_("x.owner_person_id", person_ids)
        owned = f"({in_u} OR {in_p})"
        objectives = await raw.fetch(
            "SELECT x.id, x.title, x.owner_unit_id, x.owner_person_id FROM objective x "
            f"WHERE x.tenant_id = ? AND x.cycle_id = ? AND x.status = 'active' AND {owned} "
            "ORDER BY x.id",
            TENANT_ID,
            CYCLE_ID,
            *pu,
            *pp,
        )
        key_results = await raw.fetch(
            "SELECT x.id, x.title, x.owner_unit_id, x.owner_person_id, x.objective_id "
            "FROM key_result x JOIN objective o ON o.id = x.objective_id "
            "WHERE x.tenant_id = ? AND o.cycle_id = ? AND o.status = 'active' "
            f"AND x.status = 'active' AND {owned} ORDER BY x.id",
            TENANT_ID,
            CYCLE_ID,
            *pu,
            *pp,
        )
        kpis = await raw.fetch(
            "SELECT x.id, x.title, x.owner_unit_id, x.owner_person_id, x.weight, x.target, "
            "x.threshold, x.direction, x.scoring_policy FROM kpi x "
            f"WHERE x.tenant_id = ? AND x.status = 'active' AND {owned} ORDER BY x.id",
            TENANT_ID,
            *pu,
            *pp,
        )
        nodes = {r[0] for rows in (objectives, key_results, kpis) for r in rows}
        in_nodes, pn = raw.in_("node_id", nodes)
        stored = await raw.fetch(
            "SELECT kind, node_id, value, score FROM score "
            f"WHERE tenant_id = ? AND cycle_id = ? AND {in_nodes}",
            TENANT_ID,
            CYCLE_ID,
            *pn,
        )
        return cls(objectives, key_results, kpis, {(r[0], r[1]): (r[2], r[3]) for r in stored})

    def card(self, unit_ids: set[int], person_ids: set[int], okr: float, kpi: float) -> Card:
        """The scorecard over what ``unit_ids`` and ``person_ids`` own."""

        def mine(rows: list[Row]) -> list[Row]:
            return [r for r in rows if r[2] in unit_ids or r[3] in person_ids]

        objectives = mine(self.objectives)
        own_ids = {o[0] for o in objectives}
        key_results = [k for k in mine(self.key_results) if k[4] not in own_ids]
        kpis = mine(self.kpis)
        graded = [(o, self.scores.get(("objective", o[0]), (None, None))[1]) for o in objectives]
        graded_krs = [
            (k, _float(self.scores.get(("key_result", k[0]), (None, None))[1])) for k in key_results
        ]
        scored = []
        for k in kpis:
            value = self.scores.get(("kpi", k[0]), (None, None))[0]
            scored.append(
                (k, policy_score(k[8], value, k[5], k[6], k[7]) if value is not None else None)
            )
        okr_grade = weighted_mean((g, 1.0) for _, g in [*graded, *graded_krs])
        kpi_score = weighted_mean((s, k[4]) for k, s in scored)
        combined = weighted_mean([(okr_grade, okr), (kpi_score, kpi)])
        return Card(okr_grade, kpi_score, combined, graded, graded_krs, scored)


def _float(value: float | None) -> float | None:
    return float(value) if value is not None else None


def card_json(card: Card, stage: tuple[str, float, float]) -> dict[str, Any]:
    return {
        "stage": stage[0],
        "okrShare": stage[1],
        "kpiShare": stage[2],
        "okrGrade": card.okr_grade,
        "kpiScore": card.kpi_score,
        "combinedScore": card.combined,
        "objectives": [
            {"objective": {"id": global_id("Objective", o[0]), "title": o[1]}, "grade": g}
            for o, g in card.objectives
        ],
        "keyResults": [
            {"keyResult": {"id": global_id("KeyResult", k[0]), "title": k[1]}, "grade": g}
            for k, g in card.key_results
        ],
        "kpis": [
            {"kpi": {"id": global_id("Kpi", k[0]), "title": k[1]}, "score": s} for k, s in card.kpis
        ],
    }


def ranks(scores: Sequence[float | None]) -> list[int | None]:
    """Competition ranking (1, 2, 2, 4), best first; no score, no rank."""
    first: dict[float, int] = {}
    for position, value in enumerate(sorted((v for v in scores if v is not None), reverse=True)):
        first.setdefault(value, position + 1)
    return [first[v] if v is not None else None for v in scores]


async def team(raw: Raw, unit_id: int, objective_id: int, levels: int = 5) -> bytes:
    """Workload b's floor: a department's subtree, its scorecard and its ranking."""
    rows = await tree_rows(raw, objective_id)
    tree = tree_json(rows, levels, objective_id)
    stage = await shares(raw)
    ((path,),) = await raw.fetch("SELECT path FROM org_unit WHERE id = ?", unit_id)
    people = await raw.fetch(
        "SELECT p.id, p.name, p.role, p.org_unit_id FROM person p "
        "JOIN org_unit u ON u.id = p.org_unit_id "
        "WHERE p.tenant_id = ? AND p.active AND u.path LIKE ? ORDER BY p.id",
        TENANT_ID,
        path + "%",
    )
    managed = {p[3] for p in people if p[2] == "manager"}
    owned = await Owned.load(raw, {unit_id, *managed}, {p[0] for p in people})
    unit_card = owned.card({unit_id}, set(), stage[1], stage[2])
    cards = [
        owned.card({p[3]} if p[2] == "manager" else set(), {p[0]}, stage[1], stage[2])
        for p in people
    ]
    ranked = sorted(
        zip(ranks([c.combined for c in cards]), people, cards, strict=True),
        key=lambda r: (r[0] is None, r[0] or 0, r[1][0]),
    )
    return orjson.dumps(
        {
            "goalTree": tree,
            "scorecard": card_json(unit_card, stage),
            "ranking": [
                {
                    "rank": rank,
                    "person": {"id": global_id("Person", p[0]), "name": p[1]},
                    "scorecard": {
                        "okrGrade": c.okr_grade,
                        "kpiScore": c.kpi_score,
                        "combinedScore": c.combined,
                    },
                }
                for rank, p, c in ranked
            ],
        }
    )


async def company_card(raw: Raw) -> bytes:
    """Workload d's floor: the company scorecard's stage, shares and combined score
    (its top-level objectives and every active KPI)."""
    stage = await shares(raw)
    top = await raw.fetch(
        "SELECT s.score FROM objective o JOIN score s ON s.node_id = o.id "
        "AND s.kind = 'objective' AND s.cycle_id = o.cycle_id "
        "WHERE o.tenant_id = ? AND o.cycle_id = ? AND o.status = 'active' "
        "AND o.parent_id IS NULL ORDER BY o.id",
        TENANT_ID,
        CYCLE_ID,
    )
    kpis = await raw.fetch(
        "SELECT k.weight, k.target, k.threshold, k.direction, k.scoring_policy, s.value "
        "FROM kpi k LEFT JOIN score s ON s.node_id = k.id AND s.kind = 'kpi' "
        "AND s.cycle_id = ? WHERE k.tenant_id = ? AND k.status = 'active' ORDER BY k.id",
        CYCLE_ID,
        TENANT_ID,
    )
    okr = weighted_mean((r[0], 1.0) for r in top)
    kpi = weighted_mean(
        (policy_score(r[4], r[5], r[1], r[2], r[3]) if r[5] is not None else None, r[0])
        for r in kpis
    )
    combined = weighted_mean([(okr, stage[1]), (kpi, stage[2])])
    return orjson.dumps(
        {
            "scorecard": {
                "stage": stage[0],
                "okrShare": stage[1],
                "kpiShare": stage[2],
                "okrGrade": okr,
                "kpiScore": kpi,
                "combinedScore": combined,
            }
        }
    )


async def open_raw(target: Any, size: int = 4) -> SqliteRaw | PostgresRaw:
    """The floor's connection to a seeded target (``seed.Target``)."""
    if target.path is not None:
        return SqliteRaw(str(target.path))
    from .seed import asyncpg_dsn

    return await PostgresRaw.connect(asyncpg_dsn(target.app_url), size)
