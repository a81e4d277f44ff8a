"""The conformance kit passes for every built-in pack and fails clearly otherwise."""

from __future__ import annotations

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from goalgraph.plugins import Label, PackInfo, hookimpl
from goalgraph.plugins.testing import check_pack


@pytest.fixture(autouse=True)
def _fresh_statement_cache() -> None:
    EXECUTOR_CACHE.clear()  # the kit uses SQLite; an earlier test may have used PostgreSQL


@pytest.mark.parametrize("name", ["retail", "manufacturing", "internet"])
def test_built_in_pack_conforms(name: str) -> None:
    report = check_pack(name)
    assert report.kpis_created == len(report.pack.kpi_templates) >= 8
    assert report.objectives_created == len(report.pack.okr_templates) >= 3
    assert report.links_created >= report.objectives_created


def test_a_pack_that_is_not_installed_is_named() -> None:
    with pytest.raises(AssertionError, match="pack 'nowhere' is not installed"):
        check_pack("nowhere")


class LonelyKeyResultPack:
    """Its OKR template binds a person-level KPI, which no unit can carry."""

    @hookimpl
    def goalgraph_pack_info(self) -> PackInfo:
        return PackInfo(
            name="lonely", version="0.1", title=Label(zh="孤", en="Lonely"), industries=("test",)
        )

    @hookimpl
    def goalgraph_kpi_templates(self) -> list[dict[str, object]]:
        return [
            {
                "code": "own_sales",
                "name": {"zh": "个人销售", "en": "Own sales"},
                "unit": "CNY",
                "default_target": 10,
                "default_threshold": 8,
                "level": "person",
            }
        ]

    @hookimpl
    def goalgraph_okr_templates(self) -> list[dict[str, object]]:
        return [
            {
                "code": "sell",
                "objective": {"zh": "卖", "en": "Sell"},
                "key_results": [
                    {
                        "title": {"zh": "卖", "en": "Sell more"},
                        "unit": "CNY",
                        "target_value": 5,
                        "kpi": "own_sales",
                    }
                ],
            }
        ]


def test_a_template_that_cannot_be_applied_fails_the_kit() -> None:
    with pytest.raises(AssertionError, match="pack 'lonely', OKR template 'sell' cannot be"):
        check_pack("lonely", LonelyKeyResultPack())
