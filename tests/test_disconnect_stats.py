"""Disconnect detection (断层点): its statistics by hand, its cases, its false-positive rate."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goalgraph.core.insights.disconnect import (
    MIN_PERIODS,
    DisconnectKind,
    detect_disconnect,
)
from goalgraph.core.insights.stats import (
    mann_kendall,
    ranks,
    sign_test_above,
    sign_test_below,
    spearman,
    theil_sen,
)

PIECE_RATE = {"zh": "计件工资", "en": "piece-rate pay"}
COMPLAINTS = {"zh": "客户投诉率", "en": "customer complaint rate"}

# 12 weeks of a textile plant: piece-rate pay attainment always 1.04–1.12, the
# complaint rate flat around 2%. Lower complaints are better, so the outcome is negated.
TEXTILE_ATTAINMENT = [1.04, 1.08, 1.12, 1.06, 1.10, 1.05, 1.09, 1.11, 1.07, 1.04, 1.12, 1.08]
TEXTILE_COMPLAINT_RATE = [
    0.020, 0.021, 0.019, 0.020, 0.022, 0.019, 0.020, 0.021, 0.019, 0.020, 0.021, 0.020,
]  # fmt: skip


# --- the statistics, checked by hand -------------------------------------------------


def test_sign_test_ten_of_ten_above_is_one_in_1024() -> None:
    assert sign_test_above([1.1] * 10, 1.0) == 1 / 1024


def test_sign_test_nine_of_ten_above_adds_the_ten_ways_to_miss_once() -> None:
    assert sign_test_above([1.1] * 9 + [0.9], 1.0) == 11 / 1024


def test_sign_test_drops_ties() -> None:
    assert sign_test_above([1.0, 1.0, 1.0, *[1.2] * 10], 1.0) == 1 / 1024
    assert sign_test_above([1.0] * 5, 1.0) == 1.0


def test_sign_test_below_mirrors_above() -> None:
    values = [0.7, 0.75, 0.9, 0.6, 0.79, 0.81, 0.5]
    assert sign_test_below(values, 0.8) == sign_test_above([-v for v in values], -0.8)
    assert sign_test_below([0.5] * 8, 0.8) == 1 / 256


@pytest.mark.parametrize("n", [3, 5, 12])
def test_mann_kendall_s_of_a_strictly_increasing_series_is_n_choose_2(n: int) -> None:
    trend = mann_kendall([float(i) for i in range(n)])
    assert trend.s == n * (n - 1) // 2
    assert mann_kendall([float(-i) for i in range(n)]).s == -n * (n - 1) // 2


def test_mann_kendall_z_and_p_for_five_rising_values() -> None:
    # S = 10, Var = 5·4·15/18 = 50/3, z = (10 − 1)/√(50/3)
    trend = mann_kendall([1.0, 2.0, 3.0, 4.0, 5.0])
    assert trend.z == pytest.approx(9 / math.sqrt(50 / 3))
    assert trend.p_increasing == pytest.approx(0.01374, abs=1e-5)  # 1 − Φ(2.2045)
    assert trend.p_increasing + trend.p_decreasing == pytest.approx(1.0)


def test_mann_kendall_variance_is_reduced_for_ties() -> None:
    # [1, 2, 2, 3]: S = 5; Var = (4·3·13 − 2·1·9)/18 = 23/3; z = (5 − 1)/√(23/3)
    trend = mann_kendall([1.0, 2.0, 2.0, 3.0])
    assert trend.s == 5
    assert trend.z == pytest.approx(4 / math.sqrt(23 / 3))


def test_mann_kendall_of_a_constant_series_has_no_evidence_either_way() -> None:
    trend = mann_kendall([2.0] * 9)
    assert (trend.s, trend.z, trend.p_increasing, trend.p_decreasing) == (0, 0.0, 0.5, 0.5)


def test_mann_kendall_needs_three_values() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        mann_kendall([1.0, 2.0])


def test_theil_sen_ignores_an_outlier_on_a_line() -> None:
    # y = 2i + 1 with y[4] = 100 instead of 9: 15 of the 21 pairwise slopes are exactly 2,
    # 4 lie above and 2 below, so the median is 2.
    values = [1.0, 3.0, 5.0, 7.0, 100.0, 11.0, 13.0]
    assert theil_sen(values) == 2.0
    assert theil_sen([5.0, 4.0, 3.0]) == -1.0


def test_spearman_with_ties_uses_average_ranks() -> None:
    # ranks x = [1, 2.5, 2.5, 4], y = [1, 2, 3, 4]: ρ = 4.5 / √(4.5·5) = √0.9
    assert ranks([10.0, 20.0, 20.0, 30.0]) == [1.0, 2.5, 2.5, 4.0]
    assert spearman([1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]) == pytest.approx(math.sqrt(0.9))


def test_spearman_of_monotone_and_constant_series() -> None:
    x = [1.0, 5.0, 2.0, 8.0]
    assert spearman(x, [v**3 for v in x]) == pytest.approx(1.0)
    assert spearman(x, [-v for v in x]) == pytest.approx(-1.0)
    assert spearman(x, [3.0] * 4) == 0.0


# --- the detector on its cases -------------------------------------------------------


def test_the_textile_case_is_kpi_met_okr_flat() -> None:
    # given piece-rate pay met every week and a flat complaint rate
    outcome = [-rate for rate in TEXTILE_COMPLAINT_RATE]
    # when
    finding = detect_disconnect(
        TEXTILE_ATTAINMENT, outcome, 0.8, kpi_label=PIECE_RATE, outcome_label=COMPLAINTS
    )
    # then
    assert finding is not None
    assert finding.kind == "kpi_met_okr_flat"
    assert finding.periods == 12
    assert finding.kpi_periods == 12
    assert finding.strength > 0.5
    assert finding.sign_p == 1 / 4096
    assert finding.mk_p_increasing >= 0.10
    assert finding.mean_attainment == pytest.approx(1.08)
    assert finding.reason["zh"].startswith(
        "计件工资达成率12期中12期达标(p=0.0002)，客户投诉率无改善趋势"
    )
    assert finding.reason["en"].startswith("Piece-rate pay attainment met target in 12 of 12")


def test_the_reverse_case_is_okr_improves_kpi_missed() -> None:
    # given complaints falling week after week while the KPI stays under its 80% threshold
    complaint_rate = [0.030, 0.029, 0.029, 0.027, 0.026, 0.026, 0.024, 0.023, 0.022, 0.021]
    attainment = [0.62, 0.70, 0.66, 0.75, 0.71, 0.68, 0.73, 0.64, 0.77, 0.69]
    # when
    finding = detect_disconnect(
        attainment, [-r for r in complaint_rate], 0.8, outcome_label=COMPLAINTS
    )
    # then
    assert finding is not None
    assert finding.kind == DisconnectKind.OKR_IMPROVES_KPI_MISSED
    assert finding.kpi_periods == 10
    assert finding.sign_p == 1 / 1024
    assert finding.mk_p_increasing < 0.01
    assert finding.theil_sen_slope > 0
    assert 0.0 < finding.strength <= 1.0
    assert "低于门槛80%" in finding.reason["zh"]
    assert finding.reason["en"].startswith("Customer complaint rate improves")


def test_seven_periods_never_flag() -> None:
    assert detect_disconnect(TEXTILE_ATTAINMENT[:7], [0.0] * 7, 0.8) is None
    assert detect_disconnect([0.5] * 7, [float(i) for i in range(7)], 0.8) is None


def test_eight_periods_all_met_are_enough_but_weak() -> None:
    finding = detect_disconnect(TEXTILE_ATTAINMENT[:8], [0.0] * 8, 0.8)
    assert finding is not None
    assert finding.sign_p == 1 / 256
    assert finding.strength < 0.1


def test_an_improving_outcome_is_no_kpi_met_okr_flat() -> None:
    assert detect_disconnect(TEXTILE_ATTAINMENT, [float(i) for i in range(12)], 0.8) is None


def test_an_outcome_moving_with_the_kpi_is_no_disconnect() -> None:
    # no trend over time, but the outcome rises and falls with attainment (ρ = 1)
    assert detect_disconnect(TEXTILE_ATTAINMENT, TEXTILE_ATTAINMENT, 0.8) is None


def test_a_kpi_met_barely_on_average_is_not_met() -> None:
    attainment = [1.001 + i / 1000 for i in range(12)]  # all above 1.0, mean 1.0065
    assert detect_disconnect(attainment, [0.0] * 12, 0.8) is None


def test_misaligned_or_non_finite_input_is_refused() -> None:
    with pytest.raises(ValueError, match="aligned"):
        detect_disconnect([1.1] * 9, [0.0] * 8, 0.8)
    with pytest.raises(ValueError, match="finite"):
        detect_disconnect([1.1] * 8 + [math.nan], [0.0] * 9, 0.8)


# --- false positives on noise, measured ----------------------------------------------

Draw = Callable[[random.Random], float]


def _flag_rate(execution: Draw, outcome: Draw, *, seed: int, pairs: int = 2000) -> float:
    """The share of independent 12-period pairs the detector flags."""
    rng = random.Random(seed)
    flagged = 0
    for _ in range(pairs):
        kpi = [execution(rng) for _ in range(12)]
        okr = [outcome(rng) for _ in range(12)]
        flagged += detect_disconnect(kpi, okr, 0.8) is not None
    return flagged / pairs


def test_pure_noise_is_flagged_under_one_percent() -> None:
    # given attainment ~ N(1.0, 0.1) and an unrelated outcome ~ N(0, 1)
    rate = _flag_rate(lambda r: r.gauss(1.0, 0.1), lambda r: r.gauss(0.0, 1.0), seed=20240601)
    # then
    assert rate < 0.01, f"false-positive rate on pure noise: {rate:.2%} (2,000 pairs)"


def test_a_kpi_met_on_average_but_not_consistently_is_rarely_flagged() -> None:
    # given attainment centred above target (1.05) but erratic (sd 0.3)
    rate = _flag_rate(lambda r: r.gauss(1.05, 0.3), lambda r: r.gauss(0.0, 1.0), seed=7)
    # then
    assert rate < 0.05, f"flag rate for an inconsistent KPI: {rate:.2%} (2,000 pairs)"


def test_a_kpi_always_missed_beside_a_noisy_outcome_is_rarely_called_improving() -> None:
    # given a KPI truly below its threshold and an outcome with no trend at all
    rate = _flag_rate(lambda r: r.gauss(0.7, 0.05), lambda r: r.gauss(0.0, 1.0), seed=11)
    # then only the trend test's own level (1%) is left to err
    assert rate < 0.015, f"okr_improves_kpi_missed on a trendless outcome: {rate:.2%}"


# --- properties ----------------------------------------------------------------------


@st.composite
def aligned_series(
    draw: st.DrawFn, min_size: int = MIN_PERIODS, max_size: int = 24
) -> tuple[list[float], list[float]]:
    """Attainment around a level that is met, missed or borderline, and an outcome that
    is flat or rising, both on a grid of eighths/64ths so sums are exact in floats."""
    n = draw(st.integers(min_size, max_size))
    level = draw(st.sampled_from([0.6, 1.0, 1.1]))
    wobble = draw(st.lists(st.integers(-8, 8), min_size=n, max_size=n))
    slope = draw(st.sampled_from([0, 1, 4]))
    noise = draw(st.lists(st.integers(-20, 20), min_size=n, max_size=n))
    execution = [level + w / 64 for w in wobble]
    outcome = [(slope * 8 * i + e) / 8 for i, e in enumerate(noise)]
    return execution, outcome


@given(aligned_series())
def test_strength_is_within_zero_and_one(series: tuple[list[float], list[float]]) -> None:
    finding = detect_disconnect(*series, 0.8)
    if finding is not None:
        assert 0.0 <= finding.strength <= 1.0


@given(aligned_series(), st.integers(-(10**6), 10**6))
def test_adding_a_constant_to_the_outcome_changes_nothing(
    series: tuple[list[float], list[float]], shift: int
) -> None:
    execution, outcome = series
    shifted = [v + shift / 8 for v in outcome]
    assert detect_disconnect(execution, shifted, 0.8) == detect_disconnect(execution, outcome, 0.8)


@given(aligned_series(min_size=0, max_size=MIN_PERIODS - 1))
def test_fewer_than_eight_periods_never_flag(series: tuple[list[float], list[float]]) -> None:
    assert detect_disconnect(*series, 0.8) is None


@given(st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=30))
def test_mann_kendall_is_antisymmetric(values: list[float]) -> None:
    up, down = mann_kendall(values), mann_kendall([-v for v in values])
    assert down.s == -up.s
    assert down.p_increasing == pytest.approx(up.p_decreasing)


@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=2, max_size=30))
def test_spearman_is_symmetric_and_bounded(pairs: list[tuple[float, float]]) -> None:
    x, y = [a for a, _ in pairs], [b for _, b in pairs]
    assert -1.0 <= spearman(x, y) <= 1.0
    assert spearman(x, y) == pytest.approx(spearman(y, x))
