"""What-if: scores and ranks under another weighting, without saving anything.

Because shares are applied when a scorecard is read, a simulation is the same
scorecards read twice — once with the current shares, once with the proposed ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..models import OrgUnit, Person
from .scorecard import ScoreBoard, Scorecard, Shares, combine, ranks

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Moved(Generic[T]):
    """One subject's combined score and rank before and after."""

    subject: T
    before: float | None
    after: float | None
    rank_before: int | None
    rank_after: int | None


def _moves(subjects: Sequence[T], cards: Sequence[Scorecard], after: Shares) -> list[Moved[T]]:
    before = [c.combined for c in cards]
    proposed = [combine(c.okr_grade, c.kpi_score, after) for c in cards]
    moved = [
        Moved(s, b, a, x, y)
        for s, b, a, x, y in zip(
            subjects, before, proposed, ranks(before), ranks(proposed), strict=True
        )
    ]
    return sorted(moved, key=lambda m: (m.rank_after is None, m.rank_after or 0))


def simulate(
    board: ScoreBoard, proposed: Shares, people: Sequence[Person], units: Sequence[OrgUnit]
) -> tuple[list[Moved[Person]], list[Moved[OrgUnit]]]:
    person_cards = [board.person(p) for p in people]
    unit_cards = [board.owner(unit_ids={u.id}) for u in units]
    return _moves(people, person_cards, proposed), _moves(units, unit_cards, proposed)
