"""The one guard around every call into pack code.

A pack is third-party code running inside the server. Whatever it does — raise, hang,
return nonsense, fail at import — the server must stay up, the other packs must keep
serving, and the pack must be reported unhealthy with a reason an operator can act on.

Two tools, chosen by where the call happens:

- ``run_limited``: a sync hook runs in a daemon worker thread and the caller waits at
  most ``timeout`` seconds. A Python thread cannot be interrupted, so a hung hook is
  not stopped: it is abandoned (the thread is a daemon and never blocks exit), its
  pack is marked unhealthy and never called again, so at most one thread per hung pack
  is lost. Used for every load-time hook, for imports, and for the request-time hooks
  (``goalgraph_scoring_policy``, ``goalgraph_training_recommendations``), which run
  on the event loop: there a hang would freeze every tenant's requests, not one.
- ``guarded_policy``: a pack's scoring policy is called thousands of times per tree, too
  often for a thread each. Its ``score`` is probed under the time limit when the pack
  loads (``probe_policy``); at request time the wrapper catches exceptions and
  non-finite results, answers with the default policy instead and reports the pack.
"""

from __future__ import annotations

import contextvars
import inspect
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from ..core.enums import Direction
from ..core.policy import ScoringPolicy
from ..core.scoring.policies import CORE_POLICIES, DEFAULT_POLICY

T = TypeVar("T")

#: Seconds a load-time hook (or an import) may take before the pack is left out.
LOAD_TIMEOUT = 5.0
#: Seconds a request-time hook may take: it holds the event loop while it runs.
CALL_TIMEOUT = 1.0


class PackFault(StrEnum):
    """Why a pack is unhealthy: stable codes for the API, the CLI and alerts."""

    #: The entry point's module (or object) could not be imported.
    IMPORT_FAILED = "PACK_IMPORT_FAILED"
    #: A hook, or a policy's ``score``, raised.
    HOOK_RAISED = "PACK_HOOK_RAISED"
    #: A hook did not return within the time limit.
    HOOK_TIMEOUT = "PACK_HOOK_TIMEOUT"
    #: A hook returned content that does not validate (wrong types, bad templates).
    INVALID_CONTENT = "PACK_INVALID_CONTENT"


@dataclass(frozen=True, slots=True)
class PackHealthError:
    """What made a pack unhealthy, and when (one line: it is shown in tables)."""

    code: PackFault
    message: str
    at: datetime


class PackError(Exception):
    """A pack that cannot be used; the message names the pack and the item."""

    def __init__(self, message: str, code: PackFault = PackFault.INVALID_CONTENT) -> None:
        super().__init__(message)
        self.code = code

    def health(self) -> PackHealthError:
        return PackHealthError(self.code, one_line(str(self)), datetime.now(UTC))


def one_line(text: str, limit: int = 500) -> str:
    """``text`` on a single line, cut at ``limit`` characters (tables stay readable)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def run_limited(pack: str, what: str, call: Callable[[], T], timeout: float) -> T:
    """``call()`` in a daemon thread, waited for at most ``timeout`` seconds.

    Raises ``PackError`` (``HOOK_TIMEOUT`` or ``HOOK_RAISED``) naming ``pack`` and
    ``what``; a ``BaseException`` such as ``SystemExit`` from pack code is caught too,
    since it must not end the server.
    """
    done = threading.Event()
    box: dict[str, Any] = {}
    context = contextvars.copy_context()  # the caller's context vars, as if called inline

    def target() -> None:
        try:
            box["value"] = context.run(call)
        except BaseException as exc:  # pack code may raise anything, SystemExit too
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name=f"pack-{pack}-{what}", daemon=True).start()
    if not done.wait(timeout):
        raise PackError(
            f"pack {pack!r}: {what} did not return within {timeout:g} s", PackFault.HOOK_TIMEOUT
        )
    if "error" in box:
        exc = box["error"]
        raise PackError(f"pack {pack!r}: {what} raised {exc!r}", PackFault.HOOK_RAISED) from exc
    value: T = box["value"]
    if inspect.iscoroutine(value):  # an ``async def`` hook: the contract's hooks are sync
        value.close()
        raise PackError(f"pack {pack!r}: {what} is async; goalgraph's hooks are plain functions")
    return value


#: (value, target, threshold, direction) a policy's ``score`` is tried with at load.
PROBES: tuple[tuple[float, float, float, Direction], ...] = tuple(
    (value, 10.0, 8.0, direction)
    for direction in Direction
    for value in (0.0, 5.0, 8.0, 10.0, 12.0, 30.0)
)
#: Slack on a policy's declared bounds (float rounding).
BOUNDS_SLACK = 1e-9


def check_score(policy: ScoringPolicy, result: object) -> float:
    """``result`` as a score of ``policy``, or ``ValueError`` when it is not one."""
    if isinstance(result, bool) or not isinstance(result, int | float):
        raise ValueError(f"score {result!r} is not a number")
    if not math.isfinite(result):
        raise ValueError(f"score {result!r} is not finite")
    low, high = policy.bounds
    if not low - BOUNDS_SLACK <= result <= high + BOUNDS_SLACK:
        raise ValueError(f"score {result!r} is outside the policy's bounds {policy.bounds}")
    return float(result)


def probe_policy(pack: str, policy: ScoringPolicy, timeout: float) -> None:
    """Score ``PROBES`` with ``policy`` under the time limit: a policy that raises,
    hangs or answers a non-number there is refused before any tenant uses it."""

    def run() -> list[object]:
        return [policy.score(v, t, th, d) for v, t, th, d in PROBES]

    results = run_limited(pack, f"scoring policy {policy.name!r}", run, timeout)
    for (value, target, _, direction), result in zip(PROBES, results, strict=True):
        try:
            check_score(policy, result)
        except ValueError as exc:
            raise PackError(
                f"pack {pack!r}, scoring policy {policy.name!r}: for value {value:g}, "
                f"target {target:g}, {direction.value}: {exc}"
            ) from exc


Report = Callable[[str, PackError], None]


class GuardedPolicy(ScoringPolicy):
    """A pack's policy as tenants use it: a failure scores with the default policy and
    reports the pack instead of failing the request (see ``guarded_policy``)."""

    name: ClassVar[str] = "guarded"
    label: ClassVar[dict[str, str]] = {"zh": "受保护的策略", "en": "Guarded policy"}

    def __init__(self, inner: ScoringPolicy, pack: str, report: Report) -> None:
        self.inner, self.pack, self.report = inner, pack, report
        self.failed: str | None = None

    def _fallback(self, exc: Exception) -> None:
        """Remember the first failure and report the pack once."""
        if self.failed is None:
            self.failed = one_line(f"{exc!r}")
            self.report(
                self.pack,
                PackError(
                    f"pack {self.pack!r}: scoring policy {self.inner.name!r} failed: {self.failed}",
                    PackFault.HOOK_RAISED,
                ),
            )

    def score(self, value: float, target: float, threshold: float, direction: Direction) -> float:
        if self.failed is None:
            try:
                result = self.inner.score(value, target, threshold, direction)
                return check_score(self.inner, result)
            except Exception as exc:
                self._fallback(exc)
        return CORE_POLICIES[DEFAULT_POLICY].score(value, target, threshold, direction)

    def formula(self, value: float, target: float, threshold: float, direction: Direction) -> str:
        if self.failed is None:
            try:
                return str(self.inner.formula(value, target, threshold, direction))
            except Exception as exc:
                self._fallback(exc)
        fallback = CORE_POLICIES[DEFAULT_POLICY]
        return (
            f"policy {self.inner.name!r} failed ({self.failed}); scored with "
            f"{DEFAULT_POLICY!r}: {fallback.formula(value, target, threshold, direction)}"
        )


def guarded_policy(inner: ScoringPolicy, pack: str, report: Report) -> ScoringPolicy:
    """``inner`` wrapped in a ``GuardedPolicy`` that keeps its name, label and bounds
    (a subclass per policy: they are class attributes of the contract)."""
    cls = type(
        f"Guarded_{type(inner).__name__}",
        (GuardedPolicy,),
        {"name": inner.name, "label": inner.label, "bounds": inner.bounds},
    )
    policy: ScoringPolicy = cls(inner, pack, report)
    return policy
