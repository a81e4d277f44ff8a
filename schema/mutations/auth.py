"""Mutations of local accounts and sessions: invitations and password resets (admins),
setting a password through a link, signing in, refreshing and signing out.

``signIn``, ``refreshSession``, ``acceptInvitation`` and ``resetPassword`` need no token;
the others act as the caller. Secrets (links, passwords, tokens) are in answers only.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from ...core import accounts, sessions
from ...core.sessions import SessionTokens
from ..context import Info
from ..errors import UserError
from ..ids import decode
from .common import guarded


@strawberry.type(description="A single-use link for a person, in this answer only.")
class IssuedLinkPayload:
    link: str | None = strawberry.field(
        description="Send it to the person; it is never shown again (only its hash is kept)."
    )
    expires_at: datetime | None
    errors: list[UserError]


@strawberry.type(description="A password just set through a link.")
class PasswordSetPayload:
    tenant: str | None = strawberry.field(description="The company to sign in to (its slug).")
    email: str | None = strawberry.field(description="The email to sign in with.")
    errors: list[UserError]


@strawberry.type(description="The tokens of a session, in this answer only.")
class Session:
    access_token: str = strawberry.field(
        description="Send as 'Authorization: Bearer <token>'; short-lived."
    )
    refresh_token: str = strawberry.field(
        description="Trade for new tokens with refreshSession, once: each use replaces it."
    )
    access_expires_at: datetime
    refresh_expires_at: datetime

    @classmethod
    def of(cls, tokens: SessionTokens) -> Session:
        return cls(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            access_expires_at=tokens.access_expires_at,
            refresh_expires_at=tokens.refresh_expires_at,
        )


@strawberry.type
class SessionPayload:
    session: Session | None
    errors: list[UserError]


@strawberry.type
class SignOutPayload:
    signed_out: bool
    errors: list[UserError]


def _address(info: Info) -> str:
    client = info.context.request.client
    return client.host if client is not None else "unknown"


@strawberry.type
class AuthMutations:
    @strawberry.mutation(
        description="An invitation link for a person to set their password (admins): "
        "valid 7 days, single use."
    )
    async def invite_person(self, info: Info, person_id: strawberry.ID) -> IssuedLinkPayload:
        async def run() -> accounts.IssuedLink:
            person = decode(str(person_id), "Person", "personId")
            return await accounts.invite_person(info.context.scope, person, info.context.settings)

        issued, errors = await guarded(run)
        if issued is None:
            return IssuedLinkPayload(link=None, expires_at=None, errors=errors)
        return IssuedLinkPayload(link=issued.link, expires_at=issued.expires_at, errors=[])

    @strawberry.mutation(
        description="A password reset link for a person (admins): valid 1 hour, single use."
    )
    async def issue_password_reset(self, info: Info, person_id: strawberry.ID) -> IssuedLinkPayload:
        async def run() -> accounts.IssuedLink:
            person = decode(str(person_id), "Person", "personId")
            return await accounts.issue_password_reset(
                info.context.scope, person, info.context.settings
            )

        issued, errors = await guarded(run)
        if issued is None:
            return IssuedLinkPayload(link=None, expires_at=None, errors=errors)
        return IssuedLinkPayload(link=issued.link, expires_at=issued.expires_at, errors=[])

    @strawberry.mutation(
        description="Set a first password with the secret of an invitation link (no token)."
    )
    async def accept_invitation(self, secret: str, password: str) -> PasswordSetPayload:
        person, errors = await guarded(lambda: accounts.accept_invitation(secret, password))
        return _password_set(person, errors)

    @strawberry.mutation(
        description="Set a new password with the secret of a reset link (no token); every "
        "session of the person ends."
    )
    async def reset_password(self, secret: str, password: str) -> PasswordSetPayload:
        person, errors = await guarded(lambda: accounts.reset_password(secret, password))
        return _password_set(person, errors)

    @strawberry.mutation(description="Sign in with a local account (no token).")
    async def sign_in(self, info: Info, tenant: str, email: str, password: str) -> SessionPayload:
        tokens, errors = await guarded(
            lambda: accounts.sign_in(
                tenant, email, password, info.context.settings, address=_address(info)
            )
        )
        return SessionPayload(session=Session.of(tokens) if tokens else None, errors=errors)

    @strawberry.mutation(
        description="New tokens for a refresh token (no token), which is used up; one "
        "presented a second time ends its whole session."
    )
    async def refresh_session(self, info: Info, refresh_token: str) -> SessionPayload:
        tokens, errors = await guarded(
            lambda: sessions.refresh_session(refresh_token, info.context.settings)
        )
        return SessionPayload(session=Session.of(tokens) if tokens else None, errors=errors)

    @strawberry.mutation(
        description="End the caller's session: its refresh token and access tokens stop "
        "working at once."
    )
    async def sign_out(self, info: Info) -> SignOutPayload:
        _, errors = await guarded(lambda: sessions.end_session(info.context.scope))
        return SignOutPayload(signed_out=not errors, errors=errors)


def _password_set(done: accounts.PasswordSet | None, errors: list[UserError]) -> PasswordSetPayload:
    if done is None:
        return PasswordSetPayload(tenant=None, email=None, errors=errors)
    return PasswordSetPayload(tenant=done.tenant.slug, email=done.person.email, errors=[])
