"""Small statistics over short per-period series, in plain Python.

goalgraph's series are short (8–52 periods of a KPI or a key result) and rarely normal:
attainment is skewed and capped, complaint rates are lumpy. So the tests here are
rank- or sign-based, which need no normality, and exact wherever that stays cheap:

- ``sign_test_above`` / ``sign_test_below``: exact binomial tail, "was the KPI met period
  after period?" An outlier period counts once, whatever its size.
- ``mann_kendall``: monotone trend, "does the metric improve?" Tie-corrected variance,
  normal approximation with continuity correction (close to the exact distribution
  from about 8–10 values on; the disconnect detector never looks at fewer than 8).
- ``theil_sen``: the size of that trend per period, robust to a few outliers.
- ``spearman``: do two series move together? Average ranks for ties.

All functions take any sequence of finite floats, oldest period first, and never
mutate it.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trend:
    """The Mann–Kendall trend of a series.

    ``s`` counts rising minus falling pairs; ``z`` is ``s`` standardised with the
    tie-corrected variance and a continuity correction; the p-values are one-sided.
    """

    s: int
    z: float
    p_increasing: float
    p_decreasing: float


def sign_test_above(values: Sequence[float], level: float) -> float:
    """One-sided exact p-value that the values lie above ``level`` more often than not.

    Under the null each non-tied value is above or below ``level`` with probability
    1/2, so the count above is Binomial(m, 1/2) where m excludes values equal to
    ``level`` (ties carry no sign). Returns P(X ≥ observed); 1.0 when every value ties.
    """
    above = sum(1 for v in values if v > level)
    below = sum(1 for v in values if v < level)
    return _binomial_upper_tail(above, above + below)


def sign_test_below(values: Sequence[float], level: float) -> float:
    """One-sided exact p-value that the values lie below ``level`` more often than not.

    The mirror of ``sign_test_above``: "the KPI missed its threshold period after period".
    """
    above = sum(1 for v in values if v > level)
    below = sum(1 for v in values if v < level)
    return _binomial_upper_tail(below, above + below)


def _binomial_upper_tail(k: int, m: int) -> float:
    """P(X ≥ k) for X ~ Binomial(m, 1/2), exact: an integer sum over 2**m."""
    if m == 0:
        return 1.0
    return sum(math.comb(m, i) for i in range(k, m + 1)) / 2**m


def mann_kendall(values: Sequence[float]) -> Trend:
    """The Mann–Kendall test for a monotone trend; needs at least 3 values.

    S = Σ_{i<j} sign(x_j − x_i). Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)] / 18 over
    groups of t tied values; z = (S − sign(S)) / √Var(S). When every value ties,
    Var(S) = 0 and there is no evidence either way: z = 0, both p-values 1/2.
    """
    n = len(values)
    if n < 3:
        raise ValueError(f"Mann–Kendall needs at least 3 values, got {n}")
    s = sum(_sign(values[j] - values[i]) for i in range(n - 1) for j in range(i + 1, n))
    variance = _mann_kendall_variance(values)
    z = 0.0 if variance == 0 or s == 0 else (s - _sign(s)) / math.sqrt(variance)
    return Trend(s=s, z=z, p_increasing=_normal_sf(z), p_decreasing=_normal_sf(-z))


def _mann_kendall_variance(values: Sequence[float]) -> float:
    """Var(S) under the null, reduced for every group of tied values."""
    n = len(values)
    ties = sum(t * (t - 1) * (2 * t + 5) for t in Counter(values).values() if t > 1)
    return (n * (n - 1) * (2 * n + 5) - ties) / 18


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _normal_sf(z: float) -> float:
    """P(Z ≥ z) for a standard normal Z (erfc keeps the far tail accurate)."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def theil_sen(values: Sequence[float]) -> float:
    """The Theil–Sen slope: the median of (x_j − x_i) / (j − i) over all pairs i < j.

    In units of the series per period. Up to ~29% of the points can be wild without
    moving it far, unlike a least-squares slope.
    """
    n = len(values)
    if n < 2:
        raise ValueError(f"Theil–Sen needs at least 2 values, got {n}")
    return statistics.median(
        (values[j] - values[i]) / (j - i) for i in range(n - 1) for j in range(i + 1, n)
    )


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation: Pearson's r of the (average) ranks.

    0.0 when either side is constant: a series that never moves cannot move with
    another, and the formula would divide by zero.
    """
    if len(x) != len(y):
        raise ValueError(f"spearman needs series of equal length, got {len(x)} and {len(y)}")
    if len(x) < 2:
        raise ValueError(f"spearman needs at least 2 pairs, got {len(x)}")
    rx, ry = ranks(x), ranks(y)
    mx, my = statistics.fmean(rx), statistics.fmean(ry)
    sxy = math.fsum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sxx = math.fsum((a - mx) ** 2 for a in rx)
    syy = math.fsum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return 0.0
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; tied values share the average of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        average = (start + end) / 2 + 1
        for k in range(start, end + 1):
            result[order[k]] = average
        start = end + 1
    return result
