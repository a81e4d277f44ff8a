"""Every message a person reads, in zh-CN and en, from one catalogue per language.

The catalogues must agree (same keys, same placeholders, every Chinese value actually
Chinese); every call that carries a message must name it by a key both catalogues
have, and no key may be left unused; and the API and the CLI must answer in the
reader's language, with the same codes whatever the language.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

import goalgraph.core
from goalgraph.core import models
from goalgraph.core.enums import Role
from goalgraph.core.i18n import (
    LOCALES,
    catalogue,
    cli_locale,
    from_posix,
    msg,
    negotiate,
    placeholders,
    use_locale,
)
from goalgraph.core.identity import Identity, mint_token, read_token

from .cli import cli
from .factories import TEST_SECRET, gid, make_company
from .test_subscriptions import Live, receive, sign_in
from .test_subscriptions import live as live  # the fixture, by name

PACKAGE = Path(goalgraph.core.__file__).parent.parent
CJK = re.compile(r"[\u3400-\u9fff]")

# --- the catalogues --------------------------------------------------------------------


def test_both_catalogues_have_the_same_keys() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert sorted(set(en) - set(zh)) == []
    assert sorted(set(zh) - set(en)) == []


def test_each_key_has_the_same_placeholders_in_both_languages() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    differ = [k for k in en if k in zh and placeholders(en[k]) != placeholders(zh[k])]
    assert differ == []


def test_no_message_is_empty() -> None:
    empty = [(loc, k) for loc in LOCALES for k, v in catalogue(loc).items() if not v.strip()]
    assert empty == []


def test_every_chinese_message_is_chinese() -> None:
    """An English value copied into zh-CN.toml is an untranslated message."""
    untranslated = [k for k, v in catalogue("zh-CN").items() if not CJK.search(v)]
    assert untranslated == []


# --- the call sites --------------------------------------------------------------------

#: Callables that carry a message, and the position of the message argument.
MESSAGE_ARG = {
    "Problem": 1,
    "single": 1,  # DomainError.single
    "forbidden": 0,
    "ApiError": 1,
    "AuthError": 0,
    "RowProblem": 2,
    "problem": 2,  # the roster planner's collector
    "_refused": 0,  # core/sessions.py
    "_refuse": 0,  # core/portability.py
}
#: The CLIs' one-line refusals.
CLI_MODULES = {"cli.py", "tenant_cli.py"}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts or "scaffold" in path.parts:
            continue
        yield str(path.relative_to(PACKAGE)), ast.parse(path.read_text("utf-8"))


def _name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_error_code(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "ErrorCode"
    )


def _message_arg(call: ast.Call, module: str) -> ast.expr | None:
    """The message argument of a call that carries one (None: not such a call)."""
    name = _name(call)
    if name == "single" and not (
        isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "DomainError"
    ):
        return None
    if name == "add" and call.args and _is_error_code(call.args[0]):
        position = 1  # Checks.add(code, message, field)
    elif name == "_fail" and Path(module).name in CLI_MODULES:
        position = 0
    elif name in MESSAGE_ARG:
        position = MESSAGE_ARG[name]
    else:
        return None
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == "message"), None)


def _is_msg_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and _name(node) == "msg"


def _acceptable(node: ast.expr) -> bool:
    """A message by key: ``msg("key", …)``, a variable holding a Msg, a choice between
    those, or an already-built message rendered again (``exc.text()``)."""
    if _is_msg_call(node):
        return True
    if isinstance(node, ast.Name | ast.Attribute | ast.Subscript):
        return True
    if isinstance(node, ast.IfExp):
        return _acceptable(node.body) and _acceptable(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(_acceptable(v) for v in node.values)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"text", "describe"}
    )


def _literal_keys(tree: ast.Module) -> Iterator[tuple[int, str | None]]:
    """The key of every ``msg(…)`` call (None: not a literal)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_msg_call(node):
            first = node.args[0] if node.args else None
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            yield node.lineno, first.value if literal else None  # type: ignore[union-attr]


def test_every_message_argument_is_a_catalogue_key() -> None:
    plain = []
    for module, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                arg = _message_arg(node, module)
                if arg is not None and not _acceptable(arg):
                    plain.append(f"{module}:{node.lineno}: {ast.unparse(arg)[:70]}")
    assert plain == []


def test_every_key_named_in_code_is_in_both_catalogues() -> None:
    zh, en = catalogue("zh-CN"), catalogue("en")
    missing, dynamic = [], []
    for module, tree in modules():
        for line, key in _literal_keys(tree):
            if key is None:
                dynamic.append(f"{module}:{line}")
            elif key not in en or key not in zh:
                missing.append(f"{module}:{line}: {key}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) in {"not_found", "noun"} and node.args:
                kind = node.args[0]
                if isinstance(kind, ast.Constant) and f"noun.{kind.value}" not in en:
                    missing.append(f"{module}:{node.lineno}: noun.{kind.value}")
    assert missing == []
    assert dynamic == []


def _model_nouns() -> set[str]:
    """``scope.get(Model, …)`` answers ``not_found(kind_name(Model))``."""
    names = [n for n in dir(models) if isinstance(getattr(models, n), type)]
    return {f"noun.{re.sub(r'(?<!^)(?=[A-Z])', '_', n).lower()}" for n in names}


def test_every_catalogue_key_is_used() -> None:
    """No dead messages. A key is used when ``msg()`` names it, or when it is a string
    handed on to become one (``_require_admin(scope, "cycle.what.roll_forward")``); a
    noun when ``not_found``/``noun`` names it, or a string literal is its name (passed
    on, as access_keys does) or it is a model's (``TenantScope.get``)."""
    used = _model_nouns()
    for _, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                used |= {node.value, f"noun.{node.value}"}
    assert sorted(set(catalogue("en")) - used) == []


# --- rendering and negotiation ---------------------------------------------------------


def test_a_message_renders_in_the_locale_asked_with_nouns_alike() -> None:
    missing = msg("error.not_found", kind=msg("noun.kpi"))
    assert missing.render("en") == "KPI not found"
    assert missing.render("zh-CN") == "未找到KPI 指标"
    with use_locale("zh-CN"):
        assert str(msg("kpi.archived")) == "KPI 已归档"
    assert str(msg("kpi.archived")) == "KPI is archived"


def test_a_missing_key_or_parameter_falls_back_to_english_then_to_the_key() -> None:
    assert msg("no.such.key").render("zh-CN") == "no.such.key"
    assert msg("cycle.exists").render("zh-CN") == "cycle.exists"  # {name} not given
    assert msg("kpi.archived").render("fr") == "KPI is archived"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN,zh;q=0.9", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("zh-SG", "zh-CN"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5, zh;q=0.8", "zh-CN"),
        ("zh;q=0, en", "en"),
        ("zh-TW", "en"),
        ("de, *;q=0.1", "en"),
        ("garbage;;q=x", "en"),
    ],
)
def test_accept_language_is_negotiated_by_quality(header: str | None, expected: str) -> None:
    assert negotiate(header, "en") == expected


def test_posix_locales_map_to_ours() -> None:
    assert from_posix("zh_CN.UTF-8") == "zh-CN"
    assert from_posix("en_GB.UTF-8") == "en"
    assert from_posix("C") is None
    assert from_posix("C.UTF-8") is None
    assert from_posix("de_DE.UTF-8") is None
    assert cli_locale({"LANG": "zh_CN.UTF-8"}) == "zh-CN"
    assert cli_locale({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}) == "en"
    assert cli_locale({"LANG": "C", "GOALGRAPH_LOCALE": "zh-CN"}) == "zh-CN"
    assert cli_locale({"GOALGRAPH_DEFAULT_LOCALE": "zh-CN"}) == "zh-CN"


@pytest.mark.parametrize(("claim", "read"), [("zh-CN", "zh-CN"), ("fr", None), (None, None)])
def test_a_token_carries_its_locale_and_ignores_one_we_do_not_speak(
    claim: str | None, read: str | None
) -> None:
    token = mint_token(Identity(1, "acme", Role.ADMIN, locale=claim), TEST_SECRET, timedelta(1))
    assert read_token(token, TEST_SECRET).locale == read


# --- over the API ----------------------------------------------------------------------

CREATE_OBJECTIVE = """mutation($i: CreateObjectiveInput!) {
  createObjective(input: $i) { objective { id } errors { field code message } } }"""
ME = "{ viewer { __typename } }"
SET_LOCALE = """mutation($l: String) {
  setMyLocale(locale: $l) { person { locale } errors { field code message } } }"""


async def _post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, object] | None = None,
    *,
    auth: str | None = None,
    language: str | None = None,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {auth}"} if auth else {}
    if language is not None:
        headers["Accept-Language"] = language
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


def _blank_title(cycle_id: str, unit_id: str) -> dict[str, object]:
    return {"i": {"title": " ", "cycleId": cycle_id, "ownerUnitId": unit_id}}


async def test_the_same_refusal_in_chinese_and_in_english_with_the_same_codes(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    variables = _blank_title(gid("Cycle", company.cycle.id), gid("OrgUnit", company.root.id))
    zh = await _post(
        client, CREATE_OBJECTIVE, variables, auth=company.token(), language="zh-CN,zh;q=0.9"
    )
    en = await _post(client, CREATE_OBJECTIVE, variables, auth=company.token(), language="en-US")
    zh_errors = zh.json()["data"]["createObjective"]["errors"]
    en_errors = en.json()["data"]["createObjective"]["errors"]
    assert [(e["field"], e["code"]) for e in zh_errors] == [
        (e["field"], e["code"]) for e in en_errors
    ]
    assert zh_errors[0]["message"] == "title 不能为空"
    assert en_errors[0]["message"] == "title must not be blank"
    assert zh.headers["content-language"] == "zh-CN"
    assert en.headers["content-language"] == "en"


async def test_a_not_found_names_its_noun_in_the_readers_language(
    client: httpx.AsyncClient,
) -> None:
    company = await make_company("acme")
    variables = {"i": {"title": "目标", "cycleId": gid("Cycle", 999999)}}
    variables["i"]["ownerUnitId"] = gid("OrgUnit", company.root.id)
    zh = await _post(client, CREATE_OBJECTIVE, variables, auth=company.token(), language="zh")
    errors = zh.json()["data"]["createObjective"]["errors"]
    assert [(e["code"], e["message"]) for e in errors] == [("NOT_FOUND", "未找到周期")]


async def test_a_tokens_locale_beats_accept_language(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    admin = company.admin
    claim = Identity(company.tenant.id, company.tenant.slug, admin.role, admin.id, locale="zh-CN")
    token = mint_token(claim, TEST_SECRET, timedelta(hours=1))
    variables = _blank_title(gid("Cycle", company.cycle.id), gid("OrgUnit", company.root.id))
    answer = await _post(client, CREATE_OBJECTIVE, variables, auth=token, language="en-US")
    assert answer.json()["data"]["createObjective"]["errors"][0]["message"] == "title 不能为空"
    assert answer.headers["content-language"] == "zh-CN"


async def test_a_persons_own_locale_beats_accept_language(client: httpx.AsyncClient) -> None:
    company = await make_company("acme")
    token = company.token("employee")
    chosen = await _post(client, SET_LOCALE, {"l": "zh-CN"}, auth=token, language="en")
    assert chosen.json()["data"]["setMyLocale"] == {"person": {"locale": "zh-CN"}, "errors": []}
    events = await models.AuditEvent.filter(action="person.updated").values_list("after", flat=True)
    assert {"locale": "zh-CN"} in events
    variables = _blank_title(gid("Cycle", company.cycle.id), gid("OrgUnit", company.store.id))
    answer = await _post(client, CREATE_OBJECTIVE, variables, auth=token, language="en-US")
    messages = [e["message"] for e in answer.json()["data"]["createObjective"]["errors"]]
    assert "title 不能为空" in messages
    bad = await _post(client, SET_LOCALE, {"l": "fr"}, auth=token)
    assert bad.json()["data"]["setMyLocale"]["errors"][0]["code"] == "INVALID"
    cleared = await _post(client, SET_LOCALE, {"l": None}, auth=token)
    assert cleared.json()["data"]["setMyLocale"]["person"] == {"locale": None}


async def test_unauthenticated_in_both_languages(client: httpx.AsyncClient) -> None:
    zh = await _post(client, ME, language="zh-CN")
    en = await _post(client, ME, language="en")
    zh_error, en_error = zh.json()["errors"][0], en.json()["errors"][0]
    assert zh_error["extensions"]["code"] == en_error["extensions"]["code"] == "UNAUTHENTICATED"
    assert zh_error["message"].startswith("缺少 Authorization 请求头")
    assert en_error["message"].startswith("missing Authorization header")
    expired = await _post(client, ME, auth="not-a-jwt", language="zh-CN")
    assert expired.json()["errors"][0]["message"].startswith("访问令牌无效")


# --- the CLI ---------------------------------------------------------------------------


async def test_the_cli_refuses_in_the_language_of_its_environment(
    db_url: str, client: httpx.AsyncClient
) -> None:
    zh = cli(db_url, TEST_SECRET, "tenant", "show", "nosuch", check=False, env=_lang("zh_CN.UTF-8"))
    en = cli(db_url, TEST_SECRET, "tenant", "show", "nosuch", check=False, env=_lang("C"))
    assert (zh.returncode, en.returncode) == (2, 2)
    assert zh.stderr.strip() == "错误: 没有标识为“nosuch”的租户"
    assert en.stderr.strip() == "error: no tenant with slug 'nosuch'"
    assert len(zh.stderr.strip().splitlines()) == 1


def _lang(value: str) -> dict[str, str]:
    return {"LANG": value, "LC_ALL": "", "LC_MESSAGES": "", "GOALGRAPH_LOCALE": ""}


async def test_a_development_token_carries_the_locale_asked_for(
    db_url: str, client: httpx.AsyncClient
) -> None:
    cli(
        db_url,
        TEST_SECRET,
        "tenant",
        "create",
        "acme",
        "--name",
        "艾克美",
        "--admin-email",
        "a@acme.example",
    )
    minted = cli(
        db_url, TEST_SECRET, "token", "--tenant", "acme", "--role", "admin", "--locale", "zh-CN"
    )
    token = minted.stdout.strip().splitlines()[-1]
    assert read_token(token, TEST_SECRET).locale == "zh-CN"
    refused = cli(
        db_url,
        TEST_SECRET,
        "token",
        "--tenant",
        "acme",
        "--role",
        "admin",
        "--locale",
        "fr",
        check=False,
        env=_lang("C"),
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == "error: unknown language 'fr' (known: zh-CN, en)"


async def test_a_scim_refusal_speaks_the_language_asked_for(client: httpx.AsyncClient) -> None:
    zh = await client.get("/scim/v2/Users", headers={"Accept-Language": "zh-CN"})
    en = await client.get("/scim/v2/Users")
    assert (zh.status_code, en.status_code) == (401, 401)
    assert zh.json()["detail"].startswith("缺少 Authorization 请求头")
    assert en.json()["detail"].startswith("missing Authorization header")


# --- subscriptions ---------------------------------------------------------------------

UNKNOWN_ROOT = "subscription($root: ID!) { goalProgress(rootId: $root) { weightingChanged } }"


async def _first_error(live: Live, headers: dict[str, str], token: str) -> dict[str, object]:
    """The error of subscribing under an objective that does not exist."""
    ws = await live.session.ws_connect(
        live.ws_url, protocols=("graphql-transport-ws",), headers=headers
    )
    assert await sign_in(ws, {"Authorization": f"Bearer {token}"}) == {"type": "connection_ack"}
    variables = {"root": gid("Objective", 999999)}
    payload = {"query": UNKNOWN_ROOT, "variables": variables}
    await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
    body = await receive(ws)
    await ws.close()
    found = body["payload"]
    errors = found if isinstance(found, list) else found["errors"]
    first: dict[str, object] = errors[0]
    return first


async def test_a_subscription_speaks_its_tokens_or_its_upgrade_requests_language(
    live: Live,
) -> None:
    company = await make_company("acme")
    admin = company.admin
    claim = Identity(company.tenant.id, company.tenant.slug, admin.role, admin.id, locale="zh-CN")
    zh_token = mint_token(claim, TEST_SECRET, timedelta(hours=1))
    by_token = await _first_error(live, {"Accept-Language": "en"}, zh_token)
    by_header = await _first_error(live, {"Accept-Language": "zh-CN"}, company.token())
    in_english = await _first_error(live, {}, company.token())
    assert by_token["message"] == by_header["message"] == "未找到目标"
    assert in_english["message"] == "objective not found"
    assert by_token["extensions"] == in_english["extensions"] == {"code": "NOT_FOUND"}
