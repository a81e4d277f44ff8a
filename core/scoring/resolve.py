"""Finding the policy a KPI names, and scoring a KPI's value with it.

A KPI may name a pack's policy; when that pack is not enabled for the tenant (for
any of its stages), the KPI is scored with ``linear`` and the explanation says so, rather
than failing or silently changing meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Kpi
from ..policy import PolicyLookup, ScoreExplanation, ScoringPolicy
from .policies import CORE_POLICIES, DEFAULT_POLICY


@dataclass(frozen=True, slots=True)
class ResolvedPolicy:
    policy: ScoringPolicy
    note: str | None = None


def resolve_policy(name: str, lookup: PolicyLookup | None = None) -> ResolvedPolicy:
    """The policy called ``name``: a core one, else one from ``lookup`` (enabled packs)."""
    if name in CORE_POLICIES:
        return ResolvedPolicy(CORE_POLICIES[name])
    found = lookup(name) if lookup is not None else None
    if found is not None:
        return ResolvedPolicy(found)
    return ResolvedPolicy(
        CORE_POLICIES[DEFAULT_POLICY],
        f"policy {name!r} is not available (its pack is not enabled for this company); "
        f"scored with {DEFAULT_POLICY!r}",
    )


def explain_value(
    kpi: Kpi, value: float | None, lookup: PolicyLookup | None = None
) -> tuple[ScoreExplanation | None, str | None]:
    """The KPI's score for ``value`` with its policy, explained (None without a value)."""
    if value is None:
        return None, None
    resolved = resolve_policy(kpi.scoring_policy, lookup)
    explanation = resolved.policy.explain(value, kpi.target, kpi.threshold, kpi.direction)
    return explanation, resolved.note
