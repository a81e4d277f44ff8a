"""Training recommendations from a pack's course table (技能提升课程).

Packs describe courses as data — ``{kpi_code: [(code, zh, en, hours), ...]}`` — and
answer ``goalgraph_training_recommendations`` with ``recommend``: someone missing a KPI
four periods or more in a row gets the course at double length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .types import Label, TrainingRecommendation

Course = tuple[str, str, str, float]

#: Misses in a row from which a course is recommended at double length.
INTENSIVE_AFTER = 4


def recommend(
    courses: Mapping[str, Sequence[Course]], kpi_code: str, misses: int
) -> list[TrainingRecommendation]:
    factor = 2 if misses >= INTENSIVE_AFTER else 1
    return [
        TrainingRecommendation(
            code=code, title=Label(zh=zh, en=en), hours=hours * factor, kpi_codes=(kpi_code,)
        )
        for code, zh, en, hours in courses.get(kpi_code, ())
    ]
