"""How hard the reliability tests push: CI size (the default) or full size.

``GOALGRAPH_RELIABILITY_SIZE=full`` (set by ``make reliability``) picks the sizes the
figures in docs/reliability.md are measured at; CI runs the same tests smaller.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

SIZE_ENV = "GOALGRAPH_RELIABILITY_SIZE"


@dataclass(frozen=True, slots=True)
class Size:
    """Every knob of the reliability tests, in one place."""

    name: str
    #: Generated GraphQL operations per role for the fuzzing run.
    fuzz_cases: int
    #: At least this many cross-tenant probes, generated from the SDL.
    probes: int
    #: Events published in tenant B while tenant A's subscribers listen.
    subscription_events: int
    #: Concurrent writers, and how long they write.
    writers: int
    write_seconds: float
    #: Requests of each abusive kind, and normal queries measured beside them.
    abuse_requests: int


CI = Size(
    "ci",
    fuzz_cases=40,
    probes=1000,
    subscription_events=100,
    writers=16,
    write_seconds=3.0,
    abuse_requests=20,
)
FULL = Size(
    "full",
    fuzz_cases=400,
    probes=1000,
    subscription_events=100,
    writers=16,
    write_seconds=30.0,
    abuse_requests=200,
)


def current() -> Size:
    """The size this run was asked for (CI unless ``full``)."""
    return FULL if os.environ.get(SIZE_ENV, "ci") == "full" else CI
