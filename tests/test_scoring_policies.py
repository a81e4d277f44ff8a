"""KPI scoring policies: hand-checked numbers, explanations, and their bounds for any input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goalgraph.core.enums import Aggregation, Direction
from goalgraph.core.scoring.aggregate import aggregate
from goalgraph.core.scoring.policies import CORE_POLICIES, Banded, Linear, PassFail
from goalgraph.plugins import PackManager

LOWER, HIGHER = Direction.LOWER_IS_BETTER, Direction.HIGHER_IS_BETTER


def test_lower_is_better_wait_time_beats_its_target() -> None:
    # 2.5 min against a 3 min target: 3 / 2.5 = 1.2, above target
    explained = Linear().explain(2.5, 3, 4, LOWER)
    assert explained.achievement == pytest.approx(1.2)
    assert explained.score == pytest.approx(1.2)
    assert explained.score > 1.0
    assert explained.formula == "min(3 / 2.5 = 1.2, cap 1.2) = 1.2"
    # and 4.5 min is below target
    assert Linear().score(4.5, 3, 4, LOWER) == pytest.approx(3 / 4.5)


def test_a_threshold_miss_scores_as_each_policy_says() -> None:
    # wait time 4.5 min: misses the 4 min threshold (达标门槛)
    assert PassFail().score(4.5, 3, 4, LOWER) == 0.0
    assert PassFail().explain(4.5, 3, 4, LOWER).formula == "4.5 ≤ threshold 4? fail → 0"
    assert PassFail().score(3.8, 3, 4, LOWER) == 1.0
    # foot traffic 750 of 1000 target: 75% is below the 80% band → 0
    assert Banded().score(750, 1000, 900, HIGHER) == 0.0
    assert Banded().score(900, 1000, 900, HIGHER) == pytest.approx(0.9)
    # 110%: 1 + 0.5 × 0.1
    assert Banded().score(1100, 1000, 900, HIGHER) == pytest.approx(1.05)
    assert Banded().explain(1100, 1000, 900, HIGHER).formula == (
        "1 + 0.5 × (1.1 − 1), cap 1.2 = 1.05"
    )
    # the linear cap
    assert Linear().score(2000, 1000, 900, HIGHER) == pytest.approx(1.2)


def test_aggregation_rules() -> None:
    values = [(date(2026, 11, 26), 3.0), (date(2026, 11, 28), 5.0), (date(2026, 11, 27), 4.0)]
    assert aggregate(values, Aggregation.SUM) == 12.0
    assert aggregate(values, Aggregation.AVERAGE) == 4.0
    assert aggregate(values, Aggregation.LAST) == 5.0
    assert aggregate([], Aggregation.SUM) is None


ALL_POLICIES = [*CORE_POLICIES.values()] + [
    policy for pack in PackManager.discover().loaded() for policy in pack.policies.values()
]
finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)
positive = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False)


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=[p.name for p in ALL_POLICIES])
@given(value=finite, target=positive, threshold=positive, direction=st.sampled_from(Direction))
def test_scores_stay_within_the_policys_bounds(
    policy: object, value: float, target: float, threshold: float, direction: Direction
) -> None:
    low, high = policy.bounds  # type: ignore[attr-defined]
    score = policy.score(value, target, threshold, direction)  # type: ignore[attr-defined]
    assert low <= score <= high
    assert policy.explain(value, target, threshold, direction).score == score  # type: ignore[attr-defined]


@given(value=positive, target=positive)
def test_more_is_never_worse_under_linear(value: float, target: float) -> None:
    better_higher = Linear().score(value * 1.1, target, target, HIGHER)
    assert better_higher >= Linear().score(value, target, target, HIGHER)
    better_lower = Linear().score(value * 0.9, target, target, LOWER)
    assert better_lower >= Linear().score(value, target, target, LOWER)
