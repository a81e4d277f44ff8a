"""Loading packs: discovery through entry points, validation with clear errors, and
fault isolation (one broken pack never takes the others down)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from goalgraph.plugins import (
    KpiTemplate,
    Label,
    LifecycleStageSpec,
    OkrTemplate,
    PackInfo,
    PackManager,
    hookimpl,
)
from goalgraph.plugins.types import KeyResultTemplate

BUILT_IN = {"retail", "manufacturing", "internet"}


def _info(name: str, **extra: object) -> PackInfo:
    return PackInfo(
        name=name, version="0.1.0", title=Label(zh="测试", en="Test"), industries=("test",), **extra
    )  # type: ignore[arg-type]


def _kpi(code: str, **extra: object) -> dict[str, object]:
    return {
        "code": code,
        "name": {"zh": "指标", "en": "Metric"},
        "unit": "count",
        "default_target": 10,
        "default_threshold": 8,
        "level": "store",
        **extra,
    }


class GoodPack:
    @hookimpl
    def goalgraph_pack_info(self) -> PackInfo:
        return _info("good")

    @hookimpl
    def goalgraph_kpi_templates(self) -> Sequence[dict[str, object]]:
        return [_kpi("visits")]

    @hookimpl
    def goalgraph_okr_templates(self) -> Sequence[OkrTemplate]:
        return [
            OkrTemplate(
                code="grow",
                objective=Label(zh="增长", en="Grow"),
                key_results=(
                    KeyResultTemplate(
                        title=Label(zh="访问", en="Visits"),
                        unit="count",
                        target_value=10,
                        kpi="visits",
                    ),
                ),
            )
        ]


def test_built_in_packs_load_through_entry_points() -> None:
    manager = PackManager.discover()
    assert {p.name for p in manager.loaded()} >= BUILT_IN
    for name in BUILT_IN:
        pack = manager.packs[name]
        assert pack.ok, pack.error
        assert len(pack.kpi_templates) >= 8
        assert len(pack.okr_templates) >= 3
        assert pack.info is not None
        assert pack.info.title.zh
        assert pack.info.title.en
    assert "new_product_launch" in manager.packs["retail"].stages
    assert manager.packs["retail"].stages["new_product_launch"].label.zh == "新品推广期"


def test_a_good_extra_pack_loads_beside_the_built_in_ones() -> None:
    manager = PackManager.discover(extra=[("good", GoodPack())])
    assert manager.packs["good"].ok
    assert set(manager.packs["good"].kpi_templates) == {"visits"}


@pytest.mark.parametrize(
    ("pack", "message"),
    [
        (
            type(
                "DupPack",
                (),
                {
                    "goalgraph_pack_info": hookimpl(lambda self: _info("dup")),
                    "goalgraph_kpi_templates": hookimpl(
                        lambda self: [_kpi("code_a"), _kpi("code_a")]
                    ),
                },
            ),
            "pack 'dup': duplicate KPI template 'code_a'",
        ),
        (
            type(
                "UnitPack",
                (),
                {
                    "goalgraph_pack_info": hookimpl(lambda self: _info("unit")),
                    "goalgraph_kpi_templates": hookimpl(
                        lambda self: [_kpi("code_a", unit="furlongs")]
                    ),
                },
            ),
            "pack 'unit', KPI template 'code_a': unit: Value error, unknown unit 'furlongs'",
        ),
        (
            type(
                "DirectionPack",
                (),
                {
                    "goalgraph_pack_info": hookimpl(lambda self: _info("direction")),
                    "goalgraph_kpi_templates": hookimpl(
                        lambda self: [_kpi("code_a", direction="sideways")]
                    ),
                },
            ),
            "pack 'direction', KPI template 'code_a': direction: Input should be",
        ),
        (
            type(
                "MetricPack",
                (),
                {
                    "goalgraph_pack_info": hookimpl(lambda self: _info("metric")),
                    "goalgraph_kpi_templates": hookimpl(
                        lambda self: [_kpi("code_a", metric="pos.nothing")]
                    ),
                },
            ),
            "KPI template 'code_a': no adapter of the pack supplies metric 'pos.nothing'",
        ),
        (
            type(
                "RaisingPack",
                (),
                {
                    "goalgraph_pack_info": hookimpl(lambda self: _info("raising")),
                    "goalgraph_okr_templates": hookimpl(lambda self: 1 / 0),
                },
            ),
            "pack 'raising': hook goalgraph_okr_templates raised ZeroDivisionError",
        ),
        (
            type(
                "TypoPack",
                (),
                {
                    "goalgraph_pack_info": hookimpl(lambda self: _info("typo")),
                    "goalgraph_kpi_tempaltes": hookimpl(lambda self: []),
                },
            ),
            "unknown hook 'goalgraph_kpi_tempaltes'",
        ),
        (
            type(
                "VersionPack",
                (),
                {
                    "goalgraph_pack_info": hookimpl(
                        lambda self: _info("version", goalgraph=">=99")
                    ),
                },
            ),
            "pack 'version' supports goalgraph >=99",
        ),
        (
            type(
                "StagePack",
                (),
                {
                    "goalgraph_pack_info": hookimpl(lambda self: _info("stage")),
                    "goalgraph_lifecycle_stages": hookimpl(
                        lambda self: [
                            LifecycleStageSpec(
                                name="growth", label=Label(zh="成长期", en="Growth"), okr_share=0.5
                            )
                        ]
                    ),
                },
            ),
            "pack 'stage': lifecycle stage 'growth' is already defined",
        ),
    ],
    ids=["duplicate", "unit", "direction", "metric", "raises", "typo", "version", "stage"],
)
def test_a_broken_pack_is_reported_and_left_out(pack: type, message: str) -> None:
    name = pack.__name__.lower().removesuffix("pack")
    manager = PackManager.discover(extra=[(name, pack())])
    broken = manager.packs[name]
    assert not broken.ok
    assert message in (broken.error or "")
    assert broken.plugin is None
    assert name not in {p.name for p in manager.loaded()}
    assert {p.name for p in manager.loaded()} >= BUILT_IN


def test_a_pack_that_fails_to_import_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "broken_pack-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-pack\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[goalgraph.packs]\nbroken = no_such_module_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    manager = PackManager.discover()
    assert "import failed" in (manager.packs["broken"].error or "")
    assert "no_such_module_xyz" in (manager.packs["broken"].error or "")
    assert {p.name for p in manager.loaded()} >= BUILT_IN


def test_tenant_view_calls_only_enabled_packs() -> None:
    manager = PackManager.discover()
    retail_only = manager.subset_caller("goalgraph_training_recommendations", ["retail"])
    courses = [c for batch in retail_only(kpi_code="customer_wait_time", misses=3) for c in batch]
    assert [c.code for c in courses] == ["queue_management"]
    longer = [c for b in retail_only(kpi_code="customer_wait_time", misses=4) for c in b]
    assert longer[0].hours == 2 * courses[0].hours
    manufacturing_only = manager.subset_caller(
        "goalgraph_training_recommendations", ["manufacturing"]
    )
    assert [c for b in manufacturing_only(kpi_code="customer_wait_time", misses=3) for c in b] == []
    policy = manager.subset_caller("goalgraph_scoring_policy", ["internet"])(
        name="internet.stretch"
    )
    assert policy is not None
    assert policy.score(7, 10, 5, "higher_is_better") == pytest.approx(1.0)
    missing = manager.subset_caller("goalgraph_scoring_policy", ["retail"])(name="internet.stretch")
    assert missing is None


def test_kpi_template_validation_names_the_field() -> None:
    with pytest.raises(ValueError, match="easier side"):
        KpiTemplate.model_validate(_kpi("wait", direction="lower_is_better"))
