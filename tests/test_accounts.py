"""Local accounts through the real app: invitations, passwords, sign-in, lockout, the
per-address throttle, password resets, the link pages, and secrets kept out of logs
and tables."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from argon2 import PasswordHasher
from asgi_lifespan import LifespanManager

from goalgraph.core import accounts
from goalgraph.core.app import create_app
from goalgraph.core.enums import Role
from goalgraph.core.models import (
    Account,
    AccountLink,
    AuditEvent,
    Person,
    RefreshToken,
    SessionFamily,
    SignInThrottle,
)
from goalgraph.core.services import people
from goalgraph.core.settings import Settings

from .factories import Company, gid, gql, make_company, token

PASSWORD = "correct horse battery 电池"
EMAIL = "clerk.a@lakeside.example"

INVITE = """
mutation Invite($person: ID!) {
  invitePerson(personId: $person) { link expiresAt errors { field code message } }
}
"""
RESET = """
mutation Reset($person: ID!) {
  issuePasswordReset(personId: $person) { link expiresAt errors { field code message } }
}
"""
ACCEPT = """
mutation Accept($secret: String!, $password: String!) {
  acceptInvitation(secret: $secret, password: $password) {
    tenant email errors { field code message }
  }
}
"""
RESET_PASSWORD = """
mutation SetNew($secret: String!, $password: String!) {
  resetPassword(secret: $secret, password: $password) {
    tenant email errors { field code message }
  }
}
"""
SIGN_IN = """
mutation SignIn($tenant: String!, $email: String!, $password: String!) {
  signIn(tenant: $tenant, email: $email, password: $password) {
    session { accessToken refreshToken accessExpiresAt refreshExpiresAt }
    errors { field code message }
  }
}
"""
VIEWER = "{ viewer { role person { name email } } }"


# -- helpers shared with test_sessions.py ---------------------------------------------


async def company_with_email(slug: str = "lakeside") -> Company:
    company = await make_company(slug)
    await Person.filter(id=company.employee.id).update(email=EMAIL)
    company.employee.email = EMAIL
    return company


async def invite(client: httpx.AsyncClient, company: Company, who: str = "employee") -> str:
    """Invite ``who`` as the admin; returns the secret of the link."""
    person: Person = getattr(company, who)
    body = await gql(client, INVITE, {"person": gid("Person", person.id)}, auth=company.token())
    payload = body["data"]["invitePerson"]
    assert payload["errors"] == []
    return str(payload["link"]).rsplit("/", 1)[1]


async def sign_in(
    client: httpx.AsyncClient, slug: str, email: str = EMAIL, password: str = PASSWORD
) -> dict[str, Any]:
    body = await gql(client, SIGN_IN, {"tenant": slug, "email": email, "password": password})
    payload: dict[str, Any] = body["data"]["signIn"]
    return payload


async def signed_up(
    client: httpx.AsyncClient, slug: str = "lakeside"
) -> tuple[Company, dict[str, Any]]:
    """A company whose employee accepted an invitation and signed in: the session."""
    company = await company_with_email(slug)
    secret = await invite(client, company)
    accepted = await gql(client, ACCEPT, {"secret": secret, "password": PASSWORD})
    assert accepted["data"]["acceptInvitation"]["errors"] == []
    payload = await sign_in(client, slug)
    assert payload["errors"] == []
    return company, payload["session"]


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


# -- invitation, password, sign-in ------------------------------------------------------


async def test_an_invited_person_sets_a_password_signs_in_and_queries_as_themselves(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    # given an employee with an email, invited by the admin
    company = await company_with_email()
    before = datetime.now(UTC)
    body = await gql(
        client, INVITE, {"person": gid("Person", company.employee.id)}, auth=company.token()
    )
    issued = body["data"]["invitePerson"]
    assert issued["errors"] == []
    # the link is the server's public address, the tenant and a secret
    prefix = f"{settings.public_url}/auth/lakeside/invite/"
    assert issued["link"].startswith(prefix)
    secret = issued["link"][len(prefix) :]
    assert len(secret) >= 40
    expires = datetime.fromisoformat(issued["expiresAt"])
    assert before + timedelta(days=7) <= expires <= datetime.now(UTC) + timedelta(days=7)

    # when the person sets a password with it and signs in
    accepted = (await gql(client, ACCEPT, {"secret": secret, "password": PASSWORD}))["data"]
    assert accepted["acceptInvitation"] == {"tenant": "lakeside", "email": EMAIL, "errors": []}
    payload = await sign_in(client, "LakeSide", " Clerk.A@Lakeside.example ")
    assert payload["errors"] == []
    session = payload["session"]
    assert session["refreshToken"].startswith("ggr_")

    # then they query as themselves, with their own role
    viewer = (await gql(client, VIEWER, auth=session["accessToken"]))["data"]["viewer"]
    assert viewer == {"role": "EMPLOYEE", "person": {"name": "店员甲", "email": EMAIL}}
    # and each step is in the audit trail, attributed
    actions = await AuditEvent.filter(tenant_id=company.tenant.id).values_list("action", "actor_id")
    assert ("account.invited", company.admin.id) in actions
    assert ("account.password_set", company.employee.id) in actions
    assert ("session.started", company.employee.id) in actions
    account = await Account.get(person_id=company.employee.id)
    assert account.last_sign_in_at is not None

    # and the invitation is used up
    again = (await gql(client, ACCEPT, {"secret": secret, "password": PASSWORD + "x"}))["data"]
    assert codes(again["acceptInvitation"]) == ["LINK_USED"]


async def test_who_may_be_invited_and_by_whom(client: httpx.AsyncClient) -> None:
    company = await company_with_email()
    employee = {"person": gid("Person", company.employee.id)}
    # only admins invite
    refused = await gql(client, INVITE, employee, auth=company.token("manager"))
    assert codes(refused["data"]["invitePerson"]) == ["FORBIDDEN"]
    # a person needs an email
    no_email = {"person": gid("Person", company.other_employee.id)}
    body = await gql(client, INVITE, no_email, auth=company.token())
    assert codes(body["data"]["invitePerson"]) == ["INVALID"]
    # and another tenant's person is not found
    other = await make_company("elsewhere")
    foreign = {"person": gid("Person", other.employee.id)}
    body = await gql(client, INVITE, foreign, auth=company.token())
    assert codes(body["data"]["invitePerson"]) == ["NOT_FOUND"]
    # a second invitation replaces the first
    first = await invite(client, company)
    second = await invite(client, company)
    old = (await gql(client, ACCEPT, {"secret": first, "password": PASSWORD}))["data"]
    assert codes(old["acceptInvitation"]) == ["LINK_EXPIRED"]
    new = (await gql(client, ACCEPT, {"secret": second, "password": PASSWORD}))["data"]
    assert new["acceptInvitation"]["errors"] == []
    # someone with a password gets a reset, not another invitation
    body = await gql(client, INVITE, employee, auth=company.token())
    assert codes(body["data"]["invitePerson"]) == ["CONFLICT"]
    # a deactivated person cannot be invited, nor use a link issued before
    await Person.filter(id=company.other_employee.id).update(email="b@lakeside.example")
    pending = await invite(client, company, "other_employee")
    await people.deactivate_person(company.scope, company.other_employee.id)
    body = await gql(client, INVITE, no_email, auth=company.token())
    assert codes(body["data"]["invitePerson"]) == ["INACTIVE"]
    late = (await gql(client, ACCEPT, {"secret": pending, "password": PASSWORD}))["data"]
    assert codes(late["acceptInvitation"]) == ["INACTIVE"]
    # two active people sharing an email cannot sign in by it, so neither is invited
    await Person.filter(id=company.manager.id).update(email=EMAIL)
    shared = {"person": gid("Person", company.manager.id)}
    body = await gql(client, INVITE, shared, auth=company.token())
    assert codes(body["data"]["invitePerson"]) == ["CONFLICT"]
    # an unknown secret is simply not valid
    unknown = (await gql(client, ACCEPT, {"secret": "nope", "password": PASSWORD}))["data"]
    assert codes(unknown["acceptInvitation"]) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    "password",
    [
        "short one",  # under 15 characters
        "x" * 129,  # over 128
        "Password1234567",  # a common password, in any case
        "aaaaaaaaaaaaaaaaaaaa",  # one character repeated
        "my clerk.a@lakeside.example pw",  # the email
        "clerk.a is the best",  # its local part
        "i am clerk a at work!",  # the English name, spaces ignored
        "lakeside forever and ever",  # the company's slug
    ],
)
async def test_weak_passwords_are_refused(client: httpx.AsyncClient, password: str) -> None:
    company = await company_with_email()
    secret = await invite(client, company)
    body = (await gql(client, ACCEPT, {"secret": secret, "password": password}))["data"]
    assert codes(body["acceptInvitation"]) == ["WEAK_PASSWORD"]
    assert body["acceptInvitation"]["errors"][0]["field"] == "password"
    # the link stays usable for a better password
    assert not await Account.exists(person_id=company.employee.id)
    good = await gql(client, ACCEPT, {"secret": secret, "password": "１５ full-width ok!"})
    assert good["data"]["acceptInvitation"]["errors"] == []
    # NFKC: the full-width digits are the ASCII ones at sign-in
    assert (await sign_in(client, "lakeside", password="15 full-width ok!"))["errors"] == []


async def test_a_refusal_never_says_whether_the_email_exists(client: httpx.AsyncClient) -> None:
    await signed_up(client)
    wrong_password = await sign_in(client, "lakeside", password="not the password at all")
    unknown_email = await sign_in(client, "lakeside", email="nobody@lakeside.example")
    unknown_tenant = await sign_in(client, "no-such-company")
    no_account = await sign_in(client, "lakeside", email="")
    answers = [wrong_password, unknown_email, unknown_tenant, no_account]
    assert all(a["session"] is None for a in answers)
    assert {(e["code"], e["message"]) for a in answers for e in a["errors"]} == {
        ("BAD_CREDENTIALS", accounts.BAD_CREDENTIALS.render("en"))
    }


async def test_five_failures_lock_the_account_for_a_while(client: httpx.AsyncClient) -> None:
    company, _ = await signed_up(client)
    for _ in range(accounts.MAX_FAILURES - 1):
        assert codes(await sign_in(client, "lakeside", password="wrong " * 4)) == [
            "BAD_CREDENTIALS"
        ]
    # the fifth failure locks the account
    locked = await sign_in(client, "lakeside", password="wrong " * 4)
    assert codes(locked) == ["LOCKED"]
    # and while locked, even the right password is refused
    assert codes(await sign_in(client, "lakeside")) == ["LOCKED"]
    account = await Account.get(person_id=company.employee.id)
    assert account.locked_until is not None
    assert timedelta(minutes=14) < account.locked_until - datetime.now(UTC) <= accounts.LOCKOUT
    assert await AuditEvent.exists(action="account.locked", entity_id=company.employee.id)

    # when the lockout has run out (its end moved to the past), the password works again
    ended = datetime.now(UTC) - timedelta(seconds=1)
    await Account.filter(id=account.id).update(locked_until=ended)
    assert (await sign_in(client, "lakeside"))["errors"] == []
    # and the count starts again from zero
    account = await Account.get(id=account.id)
    assert (account.failed_attempts, account.locked_until) == (0, None)


async def test_failures_outside_the_window_do_not_add_up(client: httpx.AsyncClient) -> None:
    company, _ = await signed_up(client)
    for _ in range(accounts.MAX_FAILURES - 1):
        await sign_in(client, "lakeside", password="wrong " * 4)
    # the window of those failures passes
    await Account.filter(person_id=company.employee.id).update(
        failed_since=datetime.now(UTC) - accounts.FAILURE_WINDOW - timedelta(seconds=1)
    )
    assert codes(await sign_in(client, "lakeside", password="wrong " * 4)) == ["BAD_CREDENTIALS"]
    assert (await Account.get(person_id=company.employee.id)).failed_attempts == 1


@pytest_asyncio.fixture
async def from_address(settings: Settings) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """Clients of one running app, each calling from the address given."""
    app = create_app(settings)
    made: list[httpx.AsyncClient] = []
    async with LifespanManager(app) as manager:

        def client(address: str) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=manager.app, client=(address, 40000))
            made.append(httpx.AsyncClient(transport=transport, base_url="http://goalgraph.test"))
            return made[-1]

        yield client
        for c in made:
            await c.aclose()


async def test_an_address_with_too_many_failures_is_throttled(
    from_address: Callable[[str], httpx.AsyncClient],
) -> None:
    guesser, colleague = from_address("203.0.113.7"), from_address("198.51.100.20")
    company, _ = await signed_up(colleague)
    # when one address guesses many emails (no account locks: none of them exists)
    for n in range(accounts.ADDRESS_MAX_FAILURES):
        answer = await sign_in(guesser, "lakeside", email=f"guess{n}@lakeside.example")
        assert codes(answer) == ["BAD_CREDENTIALS"]
    # then that address is refused, even with a right password
    assert codes(await sign_in(guesser, "lakeside")) == ["RATE_LIMITED"]
    # while others sign in as usual
    assert (await sign_in(colleague, "lakeside"))["errors"] == []
    row = await SignInThrottle.get(tenant_id=company.tenant.id, address="203.0.113.7")
    assert row.failures == accounts.ADDRESS_MAX_FAILURES
    # and when its window has passed, the address may try again
    await SignInThrottle.filter(id=row.id).update(
        window_started_at=datetime.now(UTC) - accounts.ADDRESS_WINDOW
    )
    assert (await sign_in(guesser, "lakeside"))["errors"] == []


async def test_a_reset_link_is_single_use_expires_and_ends_every_session(
    client: httpx.AsyncClient,
) -> None:
    company, session = await signed_up(client)
    employee = {"person": gid("Person", company.employee.id)}
    # only admins issue resets, and only for people with a password
    refused = await gql(client, RESET, employee, auth=session["accessToken"])
    assert codes(refused["data"]["issuePasswordReset"]) == ["FORBIDDEN"]
    await Person.filter(id=company.manager.id).update(email="m@lakeside.example")
    manager = {"person": gid("Person", company.manager.id)}
    body = await gql(client, RESET, manager, auth=company.token())
    assert codes(body["data"]["issuePasswordReset"]) == ["INVALID"]
    # given a reset link, valid for an hour
    issued = (await gql(client, RESET, employee, auth=company.token()))["data"]
    issued = issued["issuePasswordReset"]
    assert "/auth/lakeside/reset/" in issued["link"]
    expires = datetime.fromisoformat(issued["expiresAt"])
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    secret = issued["link"].rsplit("/", 1)[1]
    # an invitation's secret is not a reset's
    wrong_kind = await gql(client, ACCEPT, {"secret": secret, "password": "another phrase 42"})
    assert codes(wrong_kind["data"]["acceptInvitation"]) == ["NOT_FOUND"]
    # when the person sets a new password with it
    new = "a brand new pass phrase"
    done = (await gql(client, RESET_PASSWORD, {"secret": secret, "password": new}))["data"]
    assert done["resetPassword"]["errors"] == []
    # then the old session is over and the old password refused
    assert (await gql(client, VIEWER, auth=session["accessToken"]))["_status"] == 401
    assert codes(await sign_in(client, "lakeside")) == ["BAD_CREDENTIALS"]
    assert (await sign_in(client, "lakeside", password=new))["errors"] == []
    # and the link is used up
    again = await gql(client, RESET_PASSWORD, {"secret": secret, "password": new + "!"})
    assert codes(again["data"]["resetPassword"]) == ["LINK_USED"]
    # a link past its hour is refused
    late = (await gql(client, RESET, employee, auth=company.token()))["data"]
    late_secret = late["issuePasswordReset"]["link"].rsplit("/", 1)[1]
    await AccountLink.filter(secret_hash=accounts.hash_secret(late_secret)).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    body = await gql(client, RESET_PASSWORD, {"secret": late_secret, "password": new + "!"})
    assert codes(body["data"]["resetPassword"]) == ["LINK_EXPIRED"]


async def test_a_reset_lifts_a_lockout(client: httpx.AsyncClient) -> None:
    company, _ = await signed_up(client)
    for _ in range(accounts.MAX_FAILURES):
        await sign_in(client, "lakeside", password="wrong " * 4)
    assert codes(await sign_in(client, "lakeside")) == ["LOCKED"]
    issued = await gql(
        client, RESET, {"person": gid("Person", company.employee.id)}, auth=company.token()
    )
    secret = issued["data"]["issuePasswordReset"]["link"].rsplit("/", 1)[1]
    new = "locked out no longer"
    await gql(client, RESET_PASSWORD, {"secret": secret, "password": new})
    assert (await sign_in(client, "lakeside", password=new))["errors"] == []


async def test_a_hash_of_older_parameters_is_replaced_at_sign_in(
    client: httpx.AsyncClient,
) -> None:
    company, _ = await signed_up(client)
    # given a password hashed with weaker parameters, as an older release made it
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    await Account.filter(person_id=company.employee.id).update(password_hash=old)
    # when the person signs in, it still works
    assert (await sign_in(client, "lakeside"))["errors"] == []
    # and the stored hash now has today's parameters
    stored = (await Account.get(person_id=company.employee.id)).password_hash
    assert stored != old
    assert stored.startswith("$argon2id$")
    assert not accounts.HASHER.check_needs_rehash(stored)
    assert (await sign_in(client, "lakeside"))["errors"] == []


# -- the link pages ---------------------------------------------------------------------


async def test_the_invitation_page_sets_a_password(client: httpx.AsyncClient) -> None:
    company = await company_with_email()
    secret = await invite(client, company)
    path = f"/auth/lakeside/invite/{secret}"
    page = await client.get(path)
    assert page.status_code == 200
    assert "设置密码" in page.text
    assert "Set your password" in page.text
    assert EMAIL in page.text
    assert 'method="post"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere
    # the link of one company is not valid under another's address
    assert (await client.get(f"/auth/elsewhere/invite/{secret}")).status_code == 404
    # two different entries are refused, and so is a weak password, with the form again
    differ = await client.post(path, data={"password": PASSWORD, "confirm": PASSWORD + "x"})
    assert differ.status_code == 422
    assert "两次输入的密码不一致" in differ.text
    weak = await client.post(path, data={"password": "short", "confirm": "short"})
    assert weak.status_code == 422
    assert "at least 15 characters" in weak.text
    # a good one is set
    done = await client.post(path, data={"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 200
    assert "密码已设置" in done.text
    assert "lakeside" in done.text
    assert (await sign_in(client, "lakeside"))["errors"] == []
    # and the link is used up
    used = await client.get(path)
    assert used.status_code == 410
    assert "此链接已被使用" in used.text
    assert (await client.get("/auth/lakeside/invite/unknown")).status_code == 404


async def test_the_reset_page_sets_a_new_password(client: httpx.AsyncClient) -> None:
    company, _ = await signed_up(client)
    issued = await gql(
        client, RESET, {"person": gid("Person", company.employee.id)}, auth=company.token()
    )
    secret = issued["data"]["issuePasswordReset"]["link"].rsplit("/", 1)[1]
    path = f"/auth/lakeside/reset/{secret}"
    assert "重设密码" in (await client.get(path)).text
    # an invitation page does not take a reset link
    assert (await client.get(f"/auth/lakeside/invite/{secret}")).status_code == 404
    new = "the page set this one"
    assert (await client.post(path, data={"password": new, "confirm": new})).status_code == 200
    assert (await sign_in(client, "lakeside", password=new))["errors"] == []


def test_link_secrets_are_cut_out_of_access_log_lines() -> None:
    from goalgraph.schema.signin_pages import _REDACT

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/auth/lakeside/invite/s3cr3tS3cr3t", "1.1", 200),
        None,
    )
    assert _REDACT.filter(record)
    assert "s3cr3tS3cr3t" not in record.getMessage()
    assert "/auth/lakeside/invite/…" in record.getMessage()


# -- secrets: never logged, never stored in clear ---------------------------------------


async def test_secrets_never_reach_the_logs_or_the_tables(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    company = await company_with_email()
    # the whole flow: invite, accept (page and API), sign in, refresh, reset, sign out
    body = await gql(
        client, INVITE, {"person": gid("Person", company.employee.id)}, auth=company.token()
    )
    link = body["data"]["invitePerson"]["link"]
    secret = link.rsplit("/", 1)[1]
    await client.get(f"/auth/lakeside/invite/{secret}")
    await client.post(
        f"/auth/lakeside/invite/{secret}", data={"password": PASSWORD, "confirm": PASSWORD}
    )
    await sign_in(client, "lakeside", password="a wrong password here")
    session = (await sign_in(client, "lakeside"))["session"]
    refreshed = await gql(
        client,
        "mutation R($t: String!) { refreshSession(refreshToken: $t) "
        "{ session { accessToken refreshToken } errors { code } } }",
        {"t": session["refreshToken"]},
    )
    second = refreshed["data"]["refreshSession"]["session"]
    reset = await gql(
        client, RESET, {"person": gid("Person", company.employee.id)}, auth=company.token()
    )
    reset_link = reset["data"]["issuePasswordReset"]["link"]
    reset_secret = reset_link.rsplit("/", 1)[1]
    new = "another long pass phrase"
    await gql(client, RESET_PASSWORD, {"secret": reset_secret, "password": new})
    third = (await sign_in(client, "lakeside", password=new))["session"]
    await gql(client, "mutation { signOut { signedOut } }", auth=third["accessToken"])
    # a refresh token presented again (reuse) is refused without repeating it
    await gql(
        client,
        "mutation R($t: String!) { refreshSession(refreshToken: $t) { errors { code message } } }",
        {"t": session["refreshToken"]},
    )

    secrets = [
        PASSWORD,
        new,
        "a wrong password here",
        secret,
        reset_secret,
        session["refreshToken"],
        second["refreshToken"],
        third["refreshToken"],
    ]
    # everything the server side logged (the test's own HTTP client logs the addresses it
    # calls, as a browser keeps them in its history: that is the person's side, left out)
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "".join(f"{r.getMessage()} {r.args}" for r in server)
    assert "INSERT" in logged  # the database's statements were captured, too
    for value in secrets:
        assert value not in logged

    # and the tables keep hashes only
    tables: list[Any] = [Account, AccountLink, RefreshToken, SessionFamily, AuditEvent]
    stored = ""
    for model in tables:
        stored += repr(await model.filter(tenant_id=company.tenant.id).values())
    for value in secrets:
        assert value not in stored
    account = await Account.get(person_id=company.employee.id)
    assert account.password_hash.startswith("$argon2id$")
    hashes = set(await AccountLink.all().values_list("secret_hash", flat=True))
    assert hashlib.sha256(secret.encode()).hexdigest() in hashes
    tokens = set(await RefreshToken.all().values_list("token_hash", flat=True))
    assert hashlib.sha256(session["refreshToken"].encode()).hexdigest() in tokens


async def test_a_token_without_a_person_keeps_its_role(client: httpx.AsyncClient) -> None:
    company = await make_company("lakeside")
    viewer = await gql(client, "{ viewer { role } }", auth=token(company.tenant, Role.VIEWER))
    assert viewer["data"]["viewer"]["role"] == "VIEWER"
    # a person's token has the person's role, whatever the token says
    minted = token(company.tenant, Role.ADMIN, company.employee)
    assert (await gql(client, "{ viewer { role } }", auth=minted))["data"]["viewer"] == {
        "role": "EMPLOYEE"
    }
