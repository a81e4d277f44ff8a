"""The built-in lifecycle stages (发展阶段) and their preset OKR/KPI weighting.

Presets, not rules: a start-up leans on OKR to spark innovation, a mature company on
KPI to consolidate. Tenants may change the weighting; packs add stages of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from .enums import LifecycleStage


def kpi_share_of(okr_share: float) -> float:
    """The KPI share is what the OKR share leaves (rounded so 1 − 0.3 reads 0.7)."""
    return round(1.0 - okr_share, 10)


@dataclass(frozen=True, slots=True)
class StagePreset:
    name: str
    label_zh: str
    label_en: str
    okr_share: float

    @property
    def kpi_share(self) -> float:
        return kpi_share_of(self.okr_share)


BUILT_IN_STAGES: dict[str, StagePreset] = {
    LifecycleStage.STARTUP: StagePreset(LifecycleStage.STARTUP, "初创期", "Start-up", 0.7),
    LifecycleStage.GROWTH: StagePreset(LifecycleStage.GROWTH, "成长期", "Growth", 0.5),
    LifecycleStage.MATURE: StagePreset(LifecycleStage.MATURE, "成熟期", "Mature", 0.3),
}
