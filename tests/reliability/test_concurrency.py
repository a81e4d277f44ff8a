"""Concurrency in figures: many writers on the same goals lose nothing, see no lock
error, and leave stored scores equal to a rebuild; a stage switch racing them never
yields a scorecard weighed with two weightings.

A real ``goalgraph serve`` process serves the test's database. ``size.writers`` HTTP
clients write for ``size.write_seconds`` seconds, each looping over a batch of two
measurements (KPIs and periods shared by every writer, each value unique to one write)
and a check-in on a shared key result. Each writer logs what it sent, when, and what
it was answered. Afterwards the database is read directly and judged against the log.
Then, in another company on the same server, one client switches the lifecycle stage
back and forth while others read scorecards and a few writers keep scores moving.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from goalgraph.core.models import (
    AuditEvent,
    CheckIn,
    Cycle,
    KeyResult,
    Kpi,
    Measurement,
    MeasurementRevision,
    Score,
)
from goalgraph.core.scoring.store import rebuild
from goalgraph.core.services import key_results
from goalgraph.core.stages import BUILT_IN_STAGES
from goalgraph.core.tenancy import TenantScope

from ..factories import Company, build_chain, gid, make_company
from .conftest import Record
from .server import serving
from .size import Size

SECTION = "concurrency"
#: The contended periods: every writer writes each shared KPI's values for these days.
PERIODS = (date(2026, 11, 2), date(2026, 11, 3))
RECORD = """mutation($e: [MeasurementEntry!]!) {
  recordMeasurements(entries: $e) { errors { field code message } } }"""
CHECK_IN = """mutation($i: CheckInInput!) {
  checkIn(input: $i) { checkIn { value } errors { field code message } } }"""
SWITCH = """mutation($s: String!) { setLifecycleStage(stage: $s) { errors { code message } } }"""
CARD = """query($unit: ID) { scorecard(orgUnitId: $unit) {
  stage okrShare kpiShare okrGrade kpiScore combinedScore } }"""
#: Each built-in stage's OKR share (the test tenant defines no weighting of its own).
OKR_SHARES = {str(stage): preset.okr_share for stage, preset in BUILT_IN_STAGES.items()}
TIMEOUT = httpx.Timeout(60.0)


@dataclass
class Write:
    """One request a writer sent, and what came of it."""

    kind: str  # "measurements" or "check_in"
    #: ((kpi id, period), value) for measurements, ((key result id,), value) for a check-in.
    items: list[tuple[tuple[Any, ...], float]]
    sent: float
    answered: float = 0.0
    #: Why the write was not acknowledged (None: acknowledged, nothing in ``errors``).
    failure: str | None = None

    @property
    def acknowledged(self) -> bool:
        return self.failure is None


def failure_of(response: httpx.Response, root: str) -> str | None:
    """None for a clean acknowledgement; else what the client was told."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    body = response.json()
    if body.get("errors"):
        return f"GraphQL error: {body['errors'][0].get('message')}"
    payload = (body.get("data") or {}).get(root)
    if payload is None:
        return f"HTTP {response.status_code}, no payload"
    if payload.get("errors"):
        return f"payload error: {payload['errors'][0]}"
    return None


def reaches_client(failure: str) -> bool:
    """A failure of the server's own making: 5xx, a lock error or a masked error."""
    text = failure.lower()
    return text.startswith("http 5") or "locked" in text or "unexpected" in text


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], write: Write, root: str
) -> Write:
    """Send one write and log its answer (a transport failure is a failure too)."""
    try:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        write.failure = failure_of(response, root)
    except httpx.HTTPError as exc:
        write.failure = f"transport: {exc!r}"
    write.answered = time.monotonic()
    return write


@dataclass
class Goals:
    """The shared goals every writer contends for."""

    kpis: list[Kpi]
    key_results: list[KeyResult]
    initial: dict[int, float] = field(default_factory=dict)


async def contended_goals(company: Company) -> Goals:
    """A chain of objectives with four KPI-fed key results, plus two key results that
    only check-ins move (a fed key result's grade comes from its KPIs)."""
    made = await build_chain(company, depth=2, width=2)
    unfed = [
        await key_results.create_key_result(
            company.scope, objective_id=objective.id, title="签到目标", target_value=100
        )
        for objective in made["objectives"][-2:]
    ]
    checked = [*made["key_results"][:2], *unfed]
    return Goals(made["kpis"], checked, {k.id: k.current_value for k in checked})


async def writer(
    client: httpx.AsyncClient, goals: Goals, number: int, deadline: float
) -> list[Write]:
    """Loop until ``deadline``: two measurements of shared KPIs, then a check-in.

    Values are unique to (writer, step), so the write behind a stored value is known;
    they spread around the KPIs' target and threshold so scores differ.
    """
    rng = random.Random(number)
    log: list[Write] = []
    step = 0
    while time.monotonic() < deadline:
        step += 1
        value = round(2 + number * 0.15 + step * 1e-6, 6)
        pair = rng.sample(goals.kpis, 2)
        entries = [(k.id, rng.choice(PERIODS)) for k in pair]
        write = Write("measurements", [(e, value) for e in entries], time.monotonic())
        variables = {
            "e": [
                {"kpiId": gid("Kpi", k), "period": p.isoformat(), "value": value}
                for k, p in entries
            ]
        }
        log.append(await post(client, RECORD, variables, write, "recordMeasurements"))
        key_result = rng.choice(goals.key_results)
        progress = round(number * 6 + step * 1e-4, 4)
        write = Write("check_in", [((key_result.id,), progress)], time.monotonic())
        variables = {"i": {"keyResultId": gid("KeyResult", key_result.id), "value": progress}}
        log.append(await post(client, CHECK_IN, variables, write, "checkIn"))
    return log


def clients(base: str, token: str, count: int) -> list[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {token}"}
    return [
        httpx.AsyncClient(base_url=base, headers=headers, timeout=TIMEOUT) for _ in range(count)
    ]


async def write_concurrently(
    base: str, token: str, goals: Goals, size: Size
) -> tuple[list[Write], float]:
    """``size.writers`` writers for ``size.write_seconds``; every write, and the time taken."""
    started = time.monotonic()
    deadline = started + size.write_seconds
    pool = clients(base, token, size.writers)
    try:
        logs = await asyncio.gather(*(writer(c, goals, n, deadline) for n, c in enumerate(pool)))
    finally:
        await asyncio.gather(*(c.aclose() for c in pool))
    return [w for log in logs for w in log], time.monotonic() - started


# -- judging the stored state against the log ---------------------------------------------


def acknowledged_by_key(writes: Iterable[Write], kind: str) -> dict[tuple[Any, ...], list[Write]]:
    by_key: dict[tuple[Any, ...], list[Write]] = {}
    for write in writes:
        if write.kind == kind and write.acknowledged:
            for key, _ in write.items:
                by_key.setdefault(key, []).append(write)
    return by_key


def value_for(write: Write, key: tuple[Any, ...]) -> float:
    return next(v for k, v in write.items if k == key)


def out_of_order(final: Write, writes: list[Write]) -> bool:
    """The final value cannot be ``final``'s when another acknowledged write to the
    same key was sent after ``final`` was answered: that one committed later."""
    return any(w.sent > final.answered for w in writes if w is not final)


def lost_of_key(
    key: tuple[Any, ...], writes: list[Write], stored: float | None, replaced: list[float]
) -> int:
    """Acknowledged writes of one key whose effect is missing: every acknowledged value
    is either the stored one or kept as replaced (exactly once), nothing else is, and
    the stored one is a possible last write."""
    sent = Counter(value_for(w, key) for w in writes)
    kept = Counter([*replaced, *([] if stored is None else [stored])])
    lost = sum((sent - kept).values()) + sum((kept - sent).values())
    final = next((w for w in writes if value_for(w, key) == stored), None)
    return lost + int(final is not None and out_of_order(final, writes))


async def lost_measurements(goals: Goals, writes: list[Write]) -> dict[str, int]:
    """Lost measurement updates by kind: values, and KPIs whose current value is not
    their newest period's."""
    acked = acknowledged_by_key(writes, "measurements")
    ids = [k.id for k in goals.kpis]
    stored = {
        (m.kpi_id, m.period_start): m.value
        for m in await Measurement.filter(kpi_id__in=ids, period_start__in=PERIODS)
    }
    replaced: dict[tuple[Any, ...], list[float]] = {}
    for r in await MeasurementRevision.filter(kpi_id__in=ids, period_start__in=PERIODS):
        replaced.setdefault((r.kpi_id, r.period_start), []).append(r.value)
    keys = set(acked) | set(stored) | set(replaced)
    values = sum(
        lost_of_key(key, acked.get(key, []), stored.get(key), replaced.get(key, [])) for key in keys
    )
    mirrors = 0
    for kpi in await Kpi.filter(id__in=ids):
        periods = sorted(p for k, p in stored if k == kpi.id)
        newest = (periods[-1], stored[(kpi.id, periods[-1])]) if periods else (None, None)
        mirrors += (kpi.current_period, kpi.current_value) != newest
    return {"measurement values": values, "KPI current values": mirrors}


async def lost_check_ins(goals: Goals, writes: list[Write]) -> dict[str, int]:
    """Lost check-ins by kind: check-in rows, key results' current values, and breaks
    in the audit trail (each check-in's "before" must be the previous one's value)."""
    acked = acknowledged_by_key(writes, "check_in")
    ids = [k.id for k in goals.key_results]
    rows: dict[int, list[float]] = {}
    for entry in await CheckIn.filter(key_result_id__in=ids):
        rows.setdefault(entry.key_result_id, []).append(entry.value)
    current = {k.id: k.current_value for k in await KeyResult.filter(id__in=ids)}
    trail: dict[int, list[AuditEvent]] = {}
    events = AuditEvent.filter(action="key_result.checked_in", entity_id__in=ids).order_by("id")
    for event in await events:
        trail.setdefault(event.entity_id, []).append(event)
    counts = finals = breaks = 0
    for kr in ids:
        sent = acked.get((kr,), [])
        sent_values, stored_values = (
            Counter(value_for(w, (kr,)) for w in sent),
            Counter(rows.get(kr, [])),
        )
        counts += sum(((sent_values - stored_values) + (stored_values - sent_values)).values())
        final = next((w for w in sent if value_for(w, (kr,)) == current[kr]), None)
        finals += bool(sent) and (final is None or out_of_order(final, sent))
        before = goals.initial[kr]
        for event in trail.get(kr, []):
            breaks += event.before["current_value"] != before
            before = event.after["current_value"]
    return {"check-ins": counts, "key results' current values": finals, "audit trail": breaks}


def _close(a: float | None, b: float | None) -> bool:
    """Equal, or equal but for the last bits: PostgreSQL sums a KPI's values in
    whatever order its plan reads them (as bench/workloads.py allows too)."""
    if a is None or b is None:
        return a is b
    return a == b or math.isclose(a, b, rel_tol=1e-12)


class _Undo(Exception):
    """Rolls the rebuild back: the comparison must not change what it compares."""


async def scores_differing_from_rebuild(scope: TenantScope, cycle_id: int) -> list[Any]:
    """Every stored score of the cycle next to what ``rebuild`` computes from scratch,
    inside a transaction that is then rolled back; the keys that differ."""
    from tortoise.transactions import in_transaction

    async def snapshot() -> dict[tuple[Any, int], tuple[float | None, float | None]]:
        rows = await Score.filter(cycle_id=cycle_id).values_list(
            "kind", "node_id", "value", "score"
        )
        return {(kind, node): (value, score) for kind, node, value, score in rows}

    differing: list[Any] = []
    try:
        async with in_transaction():
            stored = await snapshot()
            cycle = await Cycle.get(id=cycle_id)
            await rebuild(scope, cycle, await scope.scoring_policies())
            rebuilt = await snapshot()
            for key in stored.keys() | rebuilt.keys():
                a, b = stored.get(key), rebuilt.get(key)
                if a is None or b is None or not all(map(_close, a, b)):
                    differing.append((key, a, b))
            raise _Undo
    except _Undo:
        pass
    return differing


async def build_scores(base: str, token: str) -> None:
    """Read a scorecard once, so the cycle's scores are built before anyone writes and
    every write then keeps them current along its path."""
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as c:
        response = await c.post(
            "/graphql",
            json={"query": CARD, "variables": {}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert failure_of(response, "scorecard") is None, response.text


# -- a stage switch racing score updates ----------------------------------------------------


def mixed_weighting(card: dict[str, Any]) -> bool:
    """Whether a scorecard is not entirely of one weighting: its shares are not its
    stage's, or its combined score is not okrGrade × okrShare + kpiScore × kpiShare
    (one side missing: the other alone)."""
    okr_share = OKR_SHARES.get(card["stage"])
    if okr_share is None or not (
        math.isclose(card["okrShare"], okr_share) and math.isclose(card["kpiShare"], 1 - okr_share)
    ):
        return True
    okr, kpi, combined = card["okrGrade"], card["kpiScore"], card["combinedScore"]
    if okr is None or kpi is None:
        expected = kpi if okr is None else okr
    else:
        expected = okr * okr_share + kpi * (1 - okr_share)
    if expected is None or combined is None:
        return expected is not combined
    return not math.isclose(combined, expected, rel_tol=1e-9, abs_tol=1e-12)


async def flip_stages(client: httpx.AsyncClient, deadline: float) -> list[str]:
    """Switch the stage round the built-in ones until ``deadline``; the stages set."""
    stages, done = list(OKR_SHARES), []
    while time.monotonic() < deadline:
        stage = stages[len(done) % len(stages)]
        response = await client.post("/graphql", json={"query": SWITCH, "variables": {"s": stage}})
        failure = failure_of(response, "setLifecycleStage")
        assert failure is None, failure
        done.append(stage)
    return done


async def read_cards(
    client: httpx.AsyncClient, units: list[str | None], deadline: float
) -> list[Any]:
    """Read the company's and units' scorecards in turn until ``deadline`` (once at least)."""
    cards = []
    while not cards or time.monotonic() < deadline:
        for unit in units:
            response = await client.post(
                "/graphql", json={"query": CARD, "variables": {"unit": unit}}
            )
            assert failure_of(response, "scorecard") is None, response.text
            cards.append(response.json()["data"]["scorecard"])
    return cards


@dataclass
class Race:
    """What a stage switch racing score updates left: the stages set in turn, every
    scorecard read (during the race, then once after it), and the writes beside it."""

    stages: list[str]
    cards: list[dict[str, Any]]
    after: list[dict[str, Any]]
    writes: list[Write]


async def race_stage_switch(base: str, company: Company, goals: Goals, size: Size) -> Race:
    """For ``size.write_seconds``: one client switches the stage round the built-in
    ones, two read the company's, the region's and the store's scorecards, and a
    quarter of ``size.writers`` write as in the first race; then the cards once more."""
    token = company.token()
    units = [None, gid("OrgUnit", company.region.id), gid("OrgUnit", company.store.id)]
    deadline = time.monotonic() + size.write_seconds
    writers_ = clients(base, token, max(2, size.writers // 4))
    flipper, *readers = clients(base, token, 3)
    try:
        results = await asyncio.gather(
            flip_stages(flipper, deadline),
            *(read_cards(r, units, deadline) for r in readers),
            *(writer(w, goals, n, deadline) for n, w in enumerate(writers_)),
        )
        after = await read_cards(readers[0], units, 0.0)
    finally:
        await asyncio.gather(*(c.aclose() for c in (*writers_, flipper, *readers)))
    cards = [c for r in results[1 : 1 + len(readers)] for c in r]
    writes = [w for log in results[1 + len(readers) :] for w in log]
    return Race(results[0], cards + after, after, writes)


async def test_concurrent_writers_lose_nothing_and_no_scorecard_mixes_weightings(
    client: httpx.AsyncClient, db_url: str, tmp_path: Path, size: Size, figures: Record
) -> None:
    """Two races on one server (starting it is most of the test's time), each in a
    company of its own: writers on shared goals, then a stage switch racing writers."""
    writing, racing = await make_company("acme"), await make_company("beta")
    goals, race_goals = await contended_goals(writing), await contended_goals(racing)
    # sixteen writers as fast as they can from one company is the point here, not abuse:
    # the rate limits are off (tests/reliability/test_abuse.py measures them)
    unlimited = {"GOALGRAPH_RATE_LIMIT_PER_TOKEN": "0", "GOALGRAPH_RATE_LIMIT_PER_TENANT": "0"}
    with serving(db_url, tmp_path / "server.log", env=unlimited) as base:
        await build_scores(base, writing.token())
        await build_scores(base, racing.token())
        writes, seconds = await write_concurrently(base, writing.token(), goals, size)
        race = await race_stage_switch(base, racing, race_goals, size)
    acknowledged = [w for w in writes if w.acknowledged]
    failures = [w.failure for w in [*writes, *race.writes] if w.failure is not None]
    reaching = [f for f in failures if reaches_client(f)]
    lost = {**await lost_measurements(goals, writes), **await lost_check_ins(goals, writes)}
    differing = await scores_differing_from_rebuild(writing.scope, writing.cycle.id)
    differing += await scores_differing_from_rebuild(racing.scope, racing.cycle.id)
    mixed = [c for c in race.cards if mixed_weighting(c)]

    figures(SECTION, "writes sent", len(writes))
    figures(SECTION, "writes acknowledged", len(acknowledged))
    figures(SECTION, "lost updates", sum(lost.values()), must_be_zero=True)
    figures(SECTION, "locked, masked or 5xx reaching clients", len(reaching), must_be_zero=True)
    figures(SECTION, "scores differing from a rebuild", len(differing), must_be_zero=True)
    figures(SECTION, "writes per second", round(len(acknowledged) / seconds, 1), unit="/s")
    figures(SECTION, "stage switches", len(race.stages))
    figures(SECTION, "scorecards read", len(race.cards))
    figures(SECTION, "mixed weightings", len(mixed), must_be_zero=True)
    assert not reaching, f"{len(reaching)} failures reached clients, e.g. {reaching[:3]}"
    assert not failures, f"{len(failures)} writes refused, e.g. {failures[:3]}"
    assert sum(lost.values()) == 0, f"lost updates: {lost}"
    assert not differing, f"{len(differing)} scores differ from a rebuild: {differing[:3]}"
    assert race.stages, "no stage switch happened"
    assert not mixed, f"{len(mixed)} scorecards mix weightings, e.g. {mixed[:3]}"
    assert all(c["stage"] == race.stages[-1] for c in race.after), race.after
