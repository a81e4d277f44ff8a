"""Disconnect detection (断层点): a KPI and the OKR metric it should move, drifting apart.

The textile case from domain.md: piece-rate pay (计件工资) attainment is met period
after period while the customer-complaint rate (客户投诉率) does not improve — the KPI
rewards something that does not serve the objective, so the assessment weights need
another look. The reverse is just as telling: the objective's metric improves while
the KPI meant to drive it keeps missing — the KPI measures the wrong thing, or its
target is out of reach.

Inputs are aligned period by period, oldest first:

- ``execution``: the KPI's attainment per period, value ÷ target, already inverted for
  lower-is-better KPIs, so 1.0 means on target;
- ``outcome``: the OKR metric per period, oriented so that higher is better (callers
  negate lower-is-better metrics such as a complaint rate);
- ``threshold_attainment``: the KPI's threshold ÷ target in the same orientation.

Rules, and why:

- Never flag on fewer than ``MIN_PERIODS`` (8) periods. Below that no pattern can be
  told from luck at the levels used here (eight of eight periods met is the least that
  passes the sign test at 0.005), and the Mann–Kendall normal approximation is poor.
- ``kpi_met_okr_flat`` needs all of:
  the KPI met significantly often — sign test of attainment above 1.0, ties dropped,
  p < ``SIGN_ALPHA`` (0.005). A sign test, not a t-test: attainment is skewed and
  capped, and the claim is "met period after period", not "met on average" — one huge
  period must not carry a run of misses;
  and met by a margin — mean attainment ≥ ``MIN_MEAN_ATTAINMENT`` (1.03), so a KPI
  hovering at 1.001 is not called "met";
  and the outcome not improving — Mann–Kendall p_increasing ≥ ``FLAT_P_INCREASING``
  (0.10). Deliberately lenient towards the outcome: any hint of improvement clears it;
  and the two not moving together — Spearman ρ ≤ ``MAX_COUPLING_RHO`` (0.3): when the
  outcome rises and falls with the KPI, the KPI is working, only not as a trend.
- ``okr_improves_kpi_missed`` needs both: the outcome improving — Mann–Kendall
  p_increasing < ``IMPROVE_ALPHA`` (0.01); and the KPI significantly below its
  threshold — sign test of attainment below ``threshold_attainment``, p < ``SIGN_ALPHA``.
  The two kinds exclude each other: a majority of periods cannot lie both above 1.0
  and below a threshold under it.
- The levels are strict because the detector runs over every KPI link in a tenant:
  on pure noise (see tests/test_disconnect_stats.py) it flags well under 1% of pairs.

Strength (0..1) is how well supported the weaker half of the claim is, so a finding
is never stronger than its thinnest evidence:

- a significance half maps its p-value on a log scale: 0 at its alpha, 1 at
  ``STRONG_P`` (2⁻¹², the sign-test p of 12 periods of 12 on one side);
- "the outcome does not improve" maps p_increasing linearly: 0 at
  ``FLAT_P_INCREASING``, 1 at ``FLAT_P_FULL`` (0.5, no hint of a rise at all).

``kpi_met_okr_flat`` takes the smaller of the sign-test and the flatness halves,
``okr_improves_kpi_missed`` the smaller of the trend and the sign-test halves. Each
half only grows with its evidence, so strength is monotone in every p-value. The
sizes (mean attainment, Theil–Sen slope) are reported beside it, not folded in: they
are in different units from one KPI to the next.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .stats import Trend, mann_kendall, sign_test_above, sign_test_below, spearman, theil_sen

#: The fewest aligned periods the detector looks at.
MIN_PERIODS = 8
#: Attainment that means "on target".
MET_LEVEL = 1.0
#: Sign-test level for "met (or missed) period after period".
SIGN_ALPHA = 0.005
#: Mean attainment a KPI must reach to count as met by a margin.
MIN_MEAN_ATTAINMENT = 1.03
#: Mann–Kendall p_increasing at or above which the outcome counts as not improving.
FLAT_P_INCREASING = 0.10
#: p_increasing at which "not improving" is fully supported (no hint of a rise).
FLAT_P_FULL = 0.5
#: Spearman ρ above which the KPI and the outcome count as moving together.
MAX_COUPLING_RHO = 0.3
#: Mann–Kendall p_increasing below which the outcome counts as improving.
IMPROVE_ALPHA = 0.01
#: A p-value this small (12 periods of 12 on one side) gives a significance half full strength.
STRONG_P = 2.0**-12

DEFAULT_KPI_LABEL: Mapping[str, str] = {"zh": "KPI", "en": "KPI"}
DEFAULT_OUTCOME_LABEL: Mapping[str, str] = {"zh": "OKR指标", "en": "OKR metric"}


class DisconnectKind(StrEnum):
    """Which way the KPI and the OKR metric drift apart."""

    KPI_MET_OKR_FLAT = "kpi_met_okr_flat"
    OKR_IMPROVES_KPI_MISSED = "okr_improves_kpi_missed"


@dataclass(frozen=True, slots=True)
class Finding:
    """A disconnect, with every number needed to check it by hand.

    ``kpi_periods`` counts the periods the KPI was met (``kpi_met_okr_flat``) or below
    its threshold (``okr_improves_kpi_missed``); ``sign_p`` is that sign test's p-value.
    ``theil_sen_slope`` is the outcome's change per period, in its oriented units.
    ``reason`` is one line per language: ``{"zh": ..., "en": ...}``.
    """

    kind: DisconnectKind
    periods: int
    strength: float
    kpi_periods: int
    sign_p: float
    mk_z: float
    mk_p_increasing: float
    theil_sen_slope: float
    spearman_rho: float
    mean_attainment: float
    reason: dict[str, str]


def detect_disconnect(
    execution: Sequence[float],
    outcome: Sequence[float],
    threshold_attainment: float,
    *,
    kpi_label: Mapping[str, str] = DEFAULT_KPI_LABEL,
    outcome_label: Mapping[str, str] = DEFAULT_OUTCOME_LABEL,
) -> Finding | None:
    """The disconnect between a KPI and an OKR metric, or ``None`` when there is none
    (or too few periods to tell). Labels name the two series in the reason, e.g.
    ``{"zh": "计件工资", "en": "piece-rate pay"}``."""
    _check(execution, outcome, threshold_attainment)
    if len(execution) < MIN_PERIODS:
        return None
    labels = _Labels(kpi_label, outcome_label)
    return _kpi_met_okr_flat(execution, outcome, labels) or _okr_improves_kpi_missed(
        execution, outcome, threshold_attainment, labels
    )


def _check(execution: Sequence[float], outcome: Sequence[float], threshold: float) -> None:
    """Misaligned or non-finite input is a caller's bug: fail loudly, never guess."""
    if len(execution) != len(outcome):
        raise ValueError(
            f"execution and outcome must be aligned: {len(execution)} vs {len(outcome)} periods"
        )
    if not all(math.isfinite(v) for v in (*execution, *outcome, threshold)):
        raise ValueError("execution, outcome and threshold_attainment must be finite")


@dataclass(frozen=True, slots=True)
class _Labels:
    kpi: Mapping[str, str]
    outcome: Mapping[str, str]


def _kpi_met_okr_flat(
    execution: Sequence[float], outcome: Sequence[float], labels: _Labels
) -> Finding | None:
    """The textile case: KPI met period after period, the outcome going nowhere."""
    sign_p = sign_test_above(execution, MET_LEVEL)
    mean = statistics.fmean(execution)
    if sign_p >= SIGN_ALPHA or mean < MIN_MEAN_ATTAINMENT:
        return None
    trend = mann_kendall(outcome)
    rho = spearman(execution, outcome)
    if trend.p_increasing < FLAT_P_INCREASING or rho > MAX_COUPLING_RHO:
        return None
    met = sum(1 for v in execution if v > MET_LEVEL)
    strength = min(
        _significance(sign_p, SIGN_ALPHA),
        _ramp(trend.p_increasing, FLAT_P_INCREASING, FLAT_P_FULL),
    )
    n = len(execution)
    reason = {
        "zh": f"{labels.kpi.get('zh', '')}达成率{n}期中{met}期达标({_p(sign_p)})，"
        f"{labels.outcome.get('zh', '')}无改善趋势(MK {_p(trend.p_increasing)})",
        "en": f"{labels.kpi.get('en', '')} attainment met target in {met} of {n} periods "
        f"({_p(sign_p)}); {labels.outcome.get('en', '')} shows no improving trend "
        f"(MK {_p(trend.p_increasing)})",
    }
    return _finding(
        DisconnectKind.KPI_MET_OKR_FLAT, execution, outcome, strength, met, sign_p, trend, reason
    )


def _okr_improves_kpi_missed(
    execution: Sequence[float],
    outcome: Sequence[float],
    threshold: float,
    labels: _Labels,
) -> Finding | None:
    """The reverse: the outcome improves while the KPI keeps missing its threshold."""
    sign_p = sign_test_below(execution, threshold)
    if sign_p >= SIGN_ALPHA:
        return None
    trend = mann_kendall(outcome)
    if trend.p_increasing >= IMPROVE_ALPHA:
        return None
    missed = sum(1 for v in execution if v < threshold)
    strength = min(
        _significance(trend.p_increasing, IMPROVE_ALPHA),
        _significance(sign_p, SIGN_ALPHA),
    )
    n = len(execution)
    slope = theil_sen(outcome)
    reason = {
        "zh": f"{labels.outcome.get('zh', '')}呈改善趋势(MK {_p(trend.p_increasing)}，"
        f"每期{slope:+.3g})，但{labels.kpi.get('zh', '')}达成率{n}期中{missed}期"
        f"低于门槛{threshold:.0%}({_p(sign_p)})",
        "en": f"{labels.outcome.get('en', '')} improves (MK {_p(trend.p_increasing)}, "
        f"{slope:+.3g} per period) while {labels.kpi.get('en', '')} attainment was below "
        f"its {threshold:.0%} threshold in {missed} of {n} periods ({_p(sign_p)})",
    }
    return _finding(
        DisconnectKind.OKR_IMPROVES_KPI_MISSED,
        execution,
        outcome,
        strength,
        missed,
        sign_p,
        trend,
        reason,
    )


def _finding(
    kind: DisconnectKind,
    execution: Sequence[float],
    outcome: Sequence[float],
    strength: float,
    kpi_periods: int,
    sign_p: float,
    trend: Trend,
    reason: dict[str, str],
) -> Finding:
    return Finding(
        kind=kind,
        periods=len(execution),
        strength=strength,
        kpi_periods=kpi_periods,
        sign_p=sign_p,
        mk_z=trend.z,
        mk_p_increasing=trend.p_increasing,
        theil_sen_slope=theil_sen(outcome),
        spearman_rho=spearman(execution, outcome),
        mean_attainment=statistics.fmean(execution),
        reason={lang: _capitalised(line) for lang, line in reason.items()},
    )


def _significance(p: float, alpha: float) -> float:
    """0 at ``alpha``, 1 at ``STRONG_P`` and below, log-linear between."""
    return _clamp(math.log(alpha / p) / math.log(alpha / STRONG_P)) if p > 0 else 1.0


def _ramp(x: float, zero_at: float, one_at: float) -> float:
    return _clamp((x - zero_at) / (one_at - zero_at))


def _clamp(x: float) -> float:
    return max(0.0, min(1.0, x))


def _p(p: float) -> str:
    """A p-value as people read it: two decimals when large, four when small."""
    if p < 0.0001:
        return "p<0.0001"
    return f"p={p:.4f}" if p < 0.01 else f"p={p:.2f}"


def _capitalised(line: str) -> str:
    return line[:1].upper() + line[1:]
