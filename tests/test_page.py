"""goalgraph's own page at ``/``, in a real headless Chromium against a real server.

The page is a client of the public API and nothing else, so these tests drive it as a
manager would: a live ``goalgraph serve`` on freshly seeded demo data (SQLite; the API
behind it is tested on both databases by the rest of the suite), Debian's chromium
through playwright, and no network but 127.0.0.1. Each test asserts what the page shows
and, where it changed something, what the API answers afterwards; none of them may
leave a script error behind. Screenshots of the main views go to
``GOALGRAPH_SCREENSHOT_DIR`` (``make screenshots`` writes docs/screenshots/) or to the
test's temporary directory.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, validate
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

from goalgraph.schema.build import build_schema
from goalgraph.schema.page import PAGE_DIR

from .cli import admin_token, cli
from .factories import TEST_SECRET as SECRET
from .reliability.server import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
#: How long the page may take to show what a test waits for (a loaded 2-core machine).
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)

# --- the documents the page sends ----------------------------------------------------

#: `[export] const NAME = \`…\`;` in queries.js: exported, an operation; otherwise a
#: piece that `${NAME}` spreads into operations.
_CONSTANT = re.compile(r"^(export )?const (\w+) = `([\s\S]*?)`;", re.MULTILINE)


def page_documents() -> dict[str, str]:
    """Every operation of queries.js, its pieces filled in."""
    found = _CONSTANT.findall((PAGE_DIR / "queries.js").read_text(encoding="utf-8"))
    constants = {name: text for _, name, text in found}

    def resolve(text: str) -> str:
        return re.sub(r"\$\{(\w+)\}", lambda m: resolve(constants[m.group(1)]), text)

    return {name: resolve(text) for exported, name, text in found if exported}


def test_every_document_of_the_page_is_valid_against_the_schema() -> None:
    documents = page_documents()
    assert {"GOAL_TREE", "SIMULATE", "SET_STAGE", "GOAL_PROGRESS", "ALERTS"} <= documents.keys()
    schema = build_schema()._schema
    for name, text in documents.items():
        assert validate(schema, parse(text)) == [], name


def test_the_page_loads_nothing_from_another_origin() -> None:
    files = [p for p in PAGE_DIR.iterdir() if p.suffix in {".html", ".js", ".css"}]
    assert len(files) >= 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), path.name
        assert "@import" not in text, path.name
        assert "innerHTML" not in text, path.name  # text from the API is never markup


# --- a live server and a browser -----------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """`goalgraph serve` on freshly seeded demo data: (base url, admin token, database).
    Its log goes to a file: a pipe nobody reads fills up and stalls a busy server."""
    directory = tmp_path_factory.mktemp("page")
    db = directory / "demo.sqlite3"
    cli(db, SECRET, "demo")
    token = admin_token(db, SECRET)
    with serving(f"sqlite://{db}", directory / "serve.log", start_seconds=90) as base:
        yield base, token, db


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium; each test opens its own context (cookies, storage)."""
    assert os.path.exists(CHROMIUM), "chromium is required (.ci/run and make test install it)"
    with sync_playwright() as playwright:
        browser = _launch(playwright)
        yield browser
        browser.close()


def _launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            # no network but this machine: any other host fails to resolve
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ],
    )


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go."""
    configured = os.environ.get("GOALGRAPH_SCREENSHOT_DIR")
    directory = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


class Opened:
    """A page signed in with a token, and the script errors it met."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def go(self, route: str) -> Page:
        self.page.goto(f"{self.base}/#/{route}")
        return self.page


@pytest.fixture
def opened(
    browser: Browser, server: tuple[str, str, Path], request: pytest.FixtureRequest
) -> Iterator[Opened]:
    """The page as the demo's admin, in Chinese, at 1280×900 (a phone with ``@phone``)."""
    base, token, _ = server
    phone = request.node.get_closest_marker("phone") is not None
    context = browser.new_context(
        viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
        device_scale_factor=2 if phone else 1,
        locale="zh-CN",
    )
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    result = Opened(page, base)
    page.goto(f"{base}/#token={token}")
    expect(page.locator(".tree li[data-kind]").first).to_be_visible()
    yield result
    context.close()
    assert result.errors == [], result.errors


def api(server: tuple[str, str, Path], query: str, **variables: Any) -> dict[str, Any]:
    base, token, _ = server
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body = response.json()
    assert "errors" not in body, body
    return dict(body["data"])


def node(page: Page, title: str) -> Locator:
    """The first tree node titled ``title`` (not one of its ancestors, whose text holds it)."""
    return page.locator(
        ".tree li[data-kind]", has=page.locator(":scope > .row .title", has_text=title)
    ).first


def open_branch(item: Locator) -> Locator:
    """Opens a tree node and answers its first child, once shown."""
    if item.get_attribute("aria-expanded") != "true":
        item.locator(":scope > .row .toggle").click()
    child = item.locator(":scope > ul > li").first
    expect(child).to_be_visible()
    return child


def first_kpi(page: Page) -> Locator:
    """华东区's first key result opened down to its first KPI (loaded when opened)."""
    key_result = open_branch(node(page, "华东区营收增长20%"))
    assert key_result.get_attribute("data-kind") == "KEY_RESULT"
    kpi = open_branch(key_result)
    assert kpi.get_attribute("data-kind") == "KPI"
    return kpi


# --- the views -----------------------------------------------------------------------


def test_the_page_is_served_at_the_root_under_a_same_origin_policy(
    server: tuple[str, str, Path],
) -> None:
    base, _, _ = server
    response = httpx.get(f"{base}/", timeout=10)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "connect-src 'self';" in policy  # the page's WebSocket included, no other host
    assert response.headers["cache-control"] == "no-cache"
    assert '<script type="module" src="/static/page/app.js">' in response.text
    script = httpx.get(f"{base}/static/page/app.js", timeout=10)
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]


def test_tree_expands_to_a_kpi_and_explains_its_score(opened: Opened, shots: Path) -> None:
    page = opened.page
    roots = page.locator(".tree > li")
    expect(roots.first).to_contain_text("年度营收增长20%")
    expect(roots.first.locator(":scope > .row .badge")).to_have_attribute(
        "data-health", re.compile("ON_TRACK|AT_RISK|MISSED")
    )
    kpi = first_kpi(page)
    expect(kpi.locator(":scope > .row .value")).to_contain_text("/")
    expect(kpi.locator(":scope > .row .trend")).to_have_attribute("href", re.compile(r"^#/trends/"))

    kpi.locator(":scope > .row .title").click()
    panel = page.locator(".explain")
    expect(panel).to_be_visible()
    expect(panel.locator("code")).to_contain_text("=")  # the policy's formula
    expect(panel).to_contain_text("评分策略")
    page.screenshot(path=shots / "tree.png")


def test_a_kpi_that_feeds_several_key_results_is_marked_under_each(
    opened: Opened, server: tuple[str, str, Path]
) -> None:
    data = api(server, "{ kpis(first: 200) { edges { node { id feeds { keyResult { id } } } } } }")
    shared = [e["node"]["id"] for e in data["kpis"]["edges"] if len(e["node"]["feeds"]) > 1]
    assert shared, "the demo has a KPI feeding two key results"
    page = opened.page
    page.locator(".search").fill("店")  # search loads the whole graph and opens every match
    marks = page.locator(f'li[data-node="{shared[0]}"] .shared')
    expect(marks.first).to_be_visible()
    assert marks.count() >= 2
    expect(marks.first).to_have_text(re.compile(r"⇉\d"))


def test_a_key_result_measured_by_hand_takes_a_check_in(
    opened: Opened, server: tuple[str, str, Path]
) -> None:
    page = opened.page
    key_result = node(page, "顾客净推荐值从30提升到50")
    key_result.locator(":scope > .row .title").click()
    form = page.locator("form.check-in")
    form.locator("input[name=checkInValue]").fill("45")
    form.locator("input[name=confidence]").fill("80")
    form.locator("input[name=note]").fill("门店回访后 NPS 上升")
    form.get_by_role("button", name="提交").click()
    expect(page.locator(".toast.ok")).to_contain_text("进度已更新")
    expect(key_result.locator(":scope > .row .value")).to_contain_text("45 / 50")
    kr_id = key_result.get_attribute("data-node")
    answer = api(
        server, "query($id: ID!) { keyResult(id: $id) { currentValue progress } }", id=kr_id
    )
    assert answer["keyResult"]["currentValue"] == 45
    assert answer["keyResult"]["progress"] == pytest.approx((45 - 30) / (50 - 30))


def test_search_by_owner_shows_only_matching_branches(opened: Opened) -> None:
    page = opened.page
    page.locator(".search").fill("上海徐汇店")
    expect(page.locator(".tree li.match").first).to_be_visible()
    owners = page.locator(".tree li.match > .row .owner").all_inner_texts()
    titles = page.locator(".tree li.match > .row .title").all_inner_texts()
    assert len(owners) >= 4  # the store's key result and its KPIs
    assert all("上海徐汇店" in o or "上海徐汇店" in t for o, t in zip(owners, titles, strict=True))
    # every node shown matches or leads to a match; nothing else is left in
    stray = page.evaluate(
        """[...document.querySelectorAll('.tree li[data-kind]')]
             .filter((li) => !li.classList.contains('match') && !li.querySelector('li.match'))
             .length"""
    )
    assert stray == 0
    page.locator(".search").fill("没有这样的目标")
    expect(page.locator(".tree .empty")).to_have_text("没有匹配的目标")


def test_a_kpi_trend_charts_values_against_target_and_threshold(
    opened: Opened, shots: Path
) -> None:
    page = opened.go("trends")
    page.locator("table a").first.click()
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    expect(chart.locator("path.series")).to_have_attribute(
        "d", re.compile(r"^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+){20,}")
    )
    expect(chart.locator("line.rule.target")).to_have_count(1)
    expect(chart.locator("line.rule.threshold")).to_have_count(1)
    expect(page.locator(".trend-head .badge")).to_be_visible()
    page.screenshot(path=shots / "trend.png")


def test_a_scorecard_shows_grade_score_shares_and_the_ranking(
    opened: Opened, server: tuple[str, str, Path], shots: Path
) -> None:
    page = opened.go("scorecards")
    stores = api(server, "{ orgUnits(kind: STORE) { edges { node { id name } } } }")
    unit_id = next(
        e["node"]["id"] for e in stores["orgUnits"]["edges"] if e["node"]["name"] == "上海徐汇店"
    )
    page.locator("select[name=unit]").select_option(unit_id)
    expect(page.locator(".figure")).to_have_count(3)
    expect(page.locator(".formula")).to_contain_text("×")
    expect(page.locator("table").first.locator("tbody tr").first).to_be_visible()
    expected = api(
        server,
        "query($u: ID!) { scorecard(orgUnitId: $u) { combinedScore } }",
        u=unit_id,
    )["scorecard"]["combinedScore"]
    shown = page.locator(".figure .big").nth(2).inner_text()
    assert float(shown) == pytest.approx(expected, abs=0.0005)
    page.screenshot(path=shots / "scorecard.png")
    # as of an earlier day: the same card rebuilt from the audit trail
    page.locator("input[name=asOf]").fill(date.today().isoformat())
    expect(page.locator(".figure")).to_have_count(3)
    # a person found by name, in another cycle
    page.locator("input[name=personSearch]").fill("张娜")
    person = page.locator("select[name=person] option", has_text="张娜")
    expect(person).to_have_count(1)
    page.locator("select[name=person]").select_option(person.get_attribute("value"))
    expect(page.locator("h2.whose")).to_contain_text("张娜")
    quarter = page.locator("select[name=cycle] option", has_text="第四季度").get_attribute("value")
    page.locator("select[name=cycle]").select_option(quarter)
    expect(page.locator(".scorecard p.muted").first).to_contain_text("2026年第四季度")


def test_an_admin_previews_a_stage_switch_and_applies_it(
    opened: Opened, server: tuple[str, str, Path], shots: Path
) -> None:
    page = opened.go("stage")
    expect(page.locator("h2").first).to_contain_text("成长期")
    page.locator("select[name=stage]").select_option("mature")
    page.get_by_role("button", name="预览影响").click()
    preview = page.locator(".stage-preview")
    expect(preview.locator(".summary")).to_contain_text("成长期 → 成熟期")
    expect(preview.locator("tbody tr").first).to_be_visible()
    expect(preview.locator(".delta").first).to_be_visible()
    page.screenshot(path=shots / "stage.png", full_page=True)
    # nothing was saved by the preview
    assert api(server, "{ tenant { lifecycleStage } }")["tenant"]["lifecycleStage"] == "growth"
    preview.locator("[data-action=apply]").click()
    expect(page.locator(".toast.ok")).to_contain_text("已切换到成熟期")
    expect(page.locator("h2").first).to_contain_text("成熟期")
    assert api(server, "{ tenant { lifecycleStage } }")["tenant"]["lifecycleStage"] == "mature"
    api(server, 'mutation { setLifecycleStage(stage: "growth") { errors { code } } }')


def test_an_admin_previews_and_saves_the_current_stage_s_own_shares(
    opened: Opened, server: tuple[str, str, Path]
) -> None:
    page = opened.go("stage")
    page.locator("input[name=okrShare]").fill("40")
    page.get_by_role("button", name="预览新权重").click()
    preview = page.locator(".shares-preview")
    expect(preview.locator(".summary")).to_contain_text("OKR 50% → 40%，KPI 50% → 60%")
    expect(preview.locator("tbody tr").first).to_be_visible()
    preview.locator("[data-action=apply]").click()
    expect(page.locator(".toast.ok")).to_contain_text("成长期的权重已保存")
    weightings = api(server, "{ tenant { weightings { stage okrShare kpiShare custom } } }")
    growth = next(w for w in weightings["tenant"]["weightings"] if w["stage"] == "growth")
    assert growth == {"stage": "growth", "okrShare": 0.4, "kpiShare": 0.6, "custom": True}
    api(
        server,
        'mutation { setStageWeighting(stage: "growth", okrShare: 0.5, kpiShare: 0.5) '
        "{ errors { code } } }",
    )


def record(server: tuple[str, str, Path], *entries: dict[str, Any]) -> None:
    recorded = api(
        server,
        "mutation($e: [MeasurementEntry!]!) "
        "{ recordMeasurements(entries: $e) { errors { code } } }",
        e=list(entries),
    )
    assert recorded["recordMeasurements"]["errors"] == []


def record_until_shown(page: Page, server: tuple[str, str, Path], kpi: Locator) -> None:
    """Records new values of the KPI shown at ``kpi`` until the open page shows one. A
    subscription starts a moment after the socket's ack, and a value committed before
    then is rightly not sent; so each try waits a few seconds, with a fresh value."""
    kpi_id = kpi.get_attribute("data-node")
    query = "query($id: ID!) { kpi(id: $id) { currentPeriod target } }"
    current = api(server, query, id=kpi_id)["kpi"]
    cell = kpi.locator(":scope > .row .value")
    for attempt in range(5):
        value = round(current["target"] * 1.37 + 1234.5 + attempt, 1)
        record(server, {"kpiId": kpi_id, "period": current["currentPeriod"], "value": value})
        try:
            expect(cell).to_contain_text(f"{value:,.1f}".rstrip("0").rstrip("."), timeout=4000)
            return
        except AssertionError:
            continue
    raise AssertionError("the open page never showed a value recorded through the API")


def test_a_measurement_recorded_through_the_api_appears_without_a_reload(
    opened: Opened, server: tuple[str, str, Path]
) -> None:
    page = opened.page
    page.evaluate("window.__sameDocument = true")
    kpi = first_kpi(page)
    expect(page.locator("#live")).to_have_text("实时")
    record_until_shown(page, server, kpi)
    expect(kpi.locator(":scope > .row")).to_have_class(re.compile("flash"))
    assert page.evaluate("window.__sameDocument") is True


def test_a_new_alert_reaches_the_open_page(opened: Opened, server: tuple[str, str, Path]) -> None:
    page = opened.page
    # once a progress event arrives, the alerts subscription (sent first) is running too
    record_until_shown(page, server, first_kpi(page))
    alerted = {a["kpi"]["id"] for a in api(server, "{ alerts { kpi { id } } }")["alerts"]}
    kpis = api(
        server,
        "{ kpis(first: 200) { edges { node { id threshold direction frequency currentPeriod"
        " health } } } }",
    )["kpis"]["edges"]
    kpi = next(
        e["node"]
        for e in kpis
        if e["node"]["id"] not in alerted
        and e["node"]["direction"] == "HIGHER_IS_BETTER"
        and e["node"]["frequency"] == "DAILY"
        and e["node"]["health"] == "ON_TRACK"
    )
    last = date.fromisoformat(kpi["currentPeriod"])
    misses = [
        {"kpiId": kpi["id"], "period": (last - timedelta(days=back)).isoformat(), "value": 0.5}
        for back in range(3)
    ]
    record(server, *misses)
    expect(page.locator(".toast", has_text="新预警：连续未达标").first).to_be_visible()
    expect(page.locator("[data-tab=loop] .count")).to_have_text(re.compile(r"^[1-9]\d*$"))


def test_a_manager_accepts_a_training_recommendation(
    opened: Opened, server: tuple[str, str, Path], shots: Path
) -> None:
    page = opened.go("loop")
    cards = page.locator("[data-recommendation]")
    expect(cards.first).to_be_visible()
    before = cards.count()
    rec_id = cards.first.get_attribute("data-recommendation")
    expect(page.locator("[data-alert] svg.chart").first).to_be_visible()  # the missed periods
    page.screenshot(path=shots / "loop.png", full_page=True)
    cards.first.locator("[data-action=accept]").click()
    expect(page.locator(".toast.ok")).to_contain_text("已接受")
    expect(page.locator("[data-recommendation]")).to_have_count(before - 1)
    statuses = api(server, "{ recommendations(status: ACCEPTED) { id } }")["recommendations"]
    assert rec_id in {r["id"] for r in statuses}
    expect(page.locator(".card", has_text="交叉分析报告").locator("tbody tr").first).to_be_visible()


def test_packs_list_templates_and_create_a_kpi_from_one(
    opened: Opened, server: tuple[str, str, Path]
) -> None:
    page = opened.go("packs")
    retail = page.locator("article[data-pack=retail]")
    expect(retail).to_contain_text("已启用")
    retail.get_by_role("button", name=re.compile("查看模板")).click()
    page.locator("[data-template=stockout_rate]").click()
    page.locator("input[name=target]").fill("0.03")
    page.get_by_role("button", name="创建 KPI", exact=True).last.click()
    expect(page.locator(".toast.ok")).to_contain_text("已创建 KPI")
    made = api(
        server, '{ kpis(metricCode: "stockout_rate", first: 50) { edges { node { target } } } }'
    )
    assert 0.03 in [e["node"]["target"] for e in made["kpis"]["edges"]]


def test_switching_to_english_changes_the_page_and_the_data(opened: Opened, shots: Path) -> None:
    page = opened.page
    page.locator("#lang").click()
    expect(page.locator("[data-tab=tree]")).to_have_text("Goal tree")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#live")).to_have_text("Live")
    expect(page.locator(".tree > li").first.locator(":scope > .row .title")).not_to_contain_text(
        "年度"
    )
    expect(page.locator(".tree > li .badge").first).to_have_text(
        re.compile("On track|At risk|Missed")
    )
    page.screenshot(path=shots / "tree-en.png")
    page.reload()  # the choice is kept
    expect(page.locator("[data-tab=stage]")).to_have_text("Stage & weighting")
    page.locator("#lang").click()
    expect(page.locator("[data-tab=tree]")).to_have_text("目标树")


def test_a_viewer_sees_the_stage_read_only_and_no_packs(
    browser: Browser, server: tuple[str, str, Path]
) -> None:
    base, _, db = server
    token = (
        cli(db, SECRET, "token", "--tenant", "freshmart", "--role", "viewer")
        .stdout.strip()
        .splitlines()[-1]
    )
    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{base}/#token={token}")
    expect(page.locator("#tenant")).to_contain_text("访客")
    expect(page.locator("[data-tab=packs]")).to_have_count(0)
    page.goto(f"{base}/#/stage")
    expect(page.locator("select[name=stage]")).to_be_disabled()
    expect(page.locator(".notice")).to_contain_text("只有管理员")
    context.close()


def test_a_refused_token_shows_the_sign_in_form(
    browser: Browser, server: tuple[str, str, Path]
) -> None:
    base, _, _ = server
    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{base}/#token=not-a-token")
    expect(page.locator("form.signin")).to_be_visible()
    expect(page.locator("form.signin [data-sso=feishu]")).to_be_visible()
    assert page.evaluate("localStorage.getItem('goalgraph.token')") is None
    context.close()


def test_the_page_waits_out_a_rate_limit(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A caller's budget of 600 cost units, refilled at 200 a second: the loop's two
    queries (about 830 units) cannot both run at once, and the second is answered 429.
    The page waits the Retry-After it names and shows the whole view, with no error."""
    directory = tmp_path_factory.mktemp("page-limited")
    db = directory / "demo.sqlite3"
    cli(db, SECRET, "demo")
    token = admin_token(db, SECRET)
    log = directory / "serve.log"
    limits = {
        "GOALGRAPH_RATE_LIMIT_PER_TOKEN": "200",
        "GOALGRAPH_RATE_LIMIT_PER_TOKEN_BURST": "600",
    }
    with serving(f"sqlite://{db}", log, env=limits, start_seconds=90) as base:
        context = browser.new_context(locale="zh-CN")
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base}/#token={token}")
        expect(page.locator(".tree li[data-kind]").first).to_be_visible()
        page.goto(f"{base}/#/loop")
        expect(
            page.locator(".card", has_text="交叉分析报告").locator("tbody tr").first
        ).to_be_visible()
        expect(page.locator("[data-recommendation]").first).to_be_visible()
        expect(page.locator(".failure")).to_have_count(0)
        context.close()
    refused = [
        line for line in log.read_text().splitlines() if '"POST /graphql' in line and " 429" in line
    ]
    assert refused, "the loop's second query was expected to be refused once"
    assert errors == []


@pytest.mark.phone
def test_the_tree_fits_a_phone(opened: Opened, shots: Path) -> None:
    page = opened.page
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    expect(page.locator(".tree .progress").first).to_be_visible()
    page.screenshot(path=shots / "phone.png")
