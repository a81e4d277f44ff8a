"""The built-in org sources against fake DingTalk, Feishu and WeCom servers on 127.0.0.1:
pages, cursors, tokens, rate limits and vendor errors (no database)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from goalgraph.adapters.contract import AdapterError
from goalgraph.adapters.directory import BUILT_IN
from goalgraph.adapters.org_source import OrgPage, OrgSource, TokenCache

from .fake_directory import FakeDirectory, config_for, sample_directory, serving

VENDORS = ["dingtalk", "feishu", "wecom"]


def fake_of(vendor: str) -> FakeDirectory:
    return FakeDirectory(vendor, sample_directory("0" if vendor == "feishu" else "1"))


def source_of(
    fake: FakeDirectory,
    session: aiohttp.ClientSession,
    tokens: TokenCache | None = None,
    **config: Any,
) -> OrgSource:
    cls = BUILT_IN[fake.vendor]
    return cls(cls.Config.model_validate(config_for(fake, **config)), session, tokens)


async def read_all(source: OrgSource, cursor: Any = None) -> list[OrgPage]:
    return [page async for page in source.pages(cursor)]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_pass_lists_the_tree_then_each_person_once(vendor: str) -> None:
    async with serving(fake_of(vendor)) as fake, aiohttp.ClientSession() as session:
        pages = await read_all(source_of(fake, session))
    units = [u for p in pages for u in p.units]
    people = [x for p in pages for x in p.people]
    assert [u.external_id for u in units][:2] in (["10", "20"], ["20", "10"])
    assert {u.external_id: u.parent_id for u in units} == {
        "10": None,
        "11": "10",
        "12": "10",
        "20": None,
        "21": "20",
    }
    by_id = {p.external_id: p for p in people}
    assert len(people) == len(by_id) == 7  # 钱二 is in two stores, listed once
    assert by_id["u-clerk2"].unit_id == "12"  # under the main (first) department
    assert by_id["u-ceo"].unit_id is None  # the root department is the company
    assert by_id["u-changan"].role == "manager"  # a department leader
    assert by_id["u-clerk1"].role is None
    if vendor != "dingtalk":
        assert by_id["u-clerk1"].manager_id == "u-changan"
    if vendor != "wecom":
        assert by_id["u-clerk1"].employee_no == "E004"
    # units pages come first, the last page ends the pass
    kinds = ["units" if p.units else "people" if p.people else "empty" for p in pages]
    assert "units" not in kinds[kinds.index("people") :]
    assert pages[-1].cursor is None
    assert all(p.cursor is not None for p in pages[:-1])
    assert fake.token_requests == 1


@pytest.mark.parametrize("vendor", VENDORS)
async def test_resuming_from_any_cursor_gives_the_rest_of_the_pass(vendor: str) -> None:
    async with serving(fake_of(vendor)) as fake, aiohttp.ClientSession() as session:
        source = source_of(fake, session)
        pages = await read_all(source)
        whole = [(u.external_id for u in p.units) for p in pages]
        for stop in range(len(pages) - 1):
            rest = await read_all(source, pages[stop].cursor)
            assert [[u.external_id for u in p.units] for p in rest] == [
                [u.external_id for u in p.units] for p in pages[stop + 1 :]
            ]
            assert [[x.external_id for x in p.people] for p in rest] == [
                [x.external_id for x in p.people] for p in pages[stop + 1 :]
            ]
    assert whole


@pytest.mark.parametrize("vendor", VENDORS)
async def test_an_expired_token_mid_run_is_replaced(vendor: str) -> None:
    fake = fake_of(vendor)
    fake.faults = {4: "expire"}
    async with serving(fake), aiohttp.ClientSession() as session:
        pages = await read_all(source_of(fake, session))
    assert sum(len(p.people) for p in pages) == 7
    assert fake.token_requests == 2


@pytest.mark.parametrize("vendor", VENDORS)
async def test_rate_limits_and_server_errors_are_retried(vendor: str) -> None:
    fake = fake_of(vendor)
    fake.faults = {2: "rate", 3: "rate", 5: "500"}
    async with serving(fake), aiohttp.ClientSession() as session:
        pages = await read_all(source_of(fake, session))
    assert sum(len(p.people) for p in pages) == 7


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_vendor_error_fails_with_its_code_and_message(vendor: str) -> None:
    fake = fake_of(vendor)
    fake.fail_once = {("users", "11", 0)}
    async with serving(fake), aiohttp.ClientSession() as session:
        with pytest.raises(AdapterError) as raised:
            await read_all(source_of(fake, session))
    code = "40004" if vendor == "feishu" else "60011"
    assert f"{vendor} error {code}" in str(raised.value)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_rate_limits_that_never_end_fail_the_run(vendor: str) -> None:
    fake = fake_of(vendor)
    fake.faults = dict.fromkeys(range(2, 10), "rate")
    async with serving(fake), aiohttp.ClientSession() as session:
        with pytest.raises(AdapterError) as raised:
            await read_all(source_of(fake, session, attempts=3))
    assert "failed after 3 attempts" in str(raised.value)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_wrong_credentials_fail_with_the_vendor_error(vendor: str) -> None:
    fake = fake_of(vendor)
    async with serving(fake), aiohttp.ClientSession() as session:
        secret = {"dingtalk": "app_secret", "feishu": "app_secret", "wecom": "corp_secret"}[vendor]
        with pytest.raises(AdapterError) as raised:
            await read_all(source_of(fake, session, **{secret: "wrong"}))
    assert f"{vendor} error" in str(raised.value)


async def test_a_token_is_reused_until_shortly_before_it_expires() -> None:
    tokens = TokenCache()
    fake = fake_of("dingtalk")
    async with serving(fake), aiohttp.ClientSession() as session:
        await read_all(source_of(fake, session, tokens))
        await read_all(source_of(fake, session, tokens))
        assert fake.token_requests == 1
        fake.token_ttl = 1  # a token that lives one second is used for 0.9 s
        short = TokenCache()
        await read_all(source_of(fake, session, short))
        assert fake.token_requests == 2
        await asyncio.sleep(1.0)
        await read_all(source_of(fake, session, short))
        assert fake.token_requests == 3
