"""Every secret the suite mints, so the session can prove none of them reached a log.

Tokens (``factories.token``), API keys, SCIM credentials, sign-in links, session
tokens, passwords and adapter credentials are registered with their kind where the
suite makes or sends them. At the end of the session ``tests/conftest.py`` greps the
log it captured for every registered string (``leaks``) and fails the run on any hit,
naming only the kind: the report itself must not leak what it looks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: Shorter strings would match by chance (a 4-digit code, "x"); none of ours are secret.
MIN_LENGTH = 8

#: The keys of a GraphQL request's variables or answer whose string values are secrets,
#: with the kind each is reported as.
SECRET_KEYS: Mapping[str, str] = {
    "secret": "API key, SCIM credential or adapter secret",
    "link": "sign-in link",
    "accessToken": "session access token",
    "refreshToken": "session refresh token",
    "password": "password",
    "clientSecret": "identity provider client secret",
    "app_secret": "adapter credential",
    "corp_secret": "adapter credential",
    "api_key": "adapter credential",
    "token": "token",
}

_REGISTERED: dict[str, str] = {}


def register(kind: str, secret: str) -> str:
    """Remember ``secret`` as a ``kind``; returns it, so a minting call can be wrapped."""
    if len(secret) >= MIN_LENGTH:
        _REGISTERED.setdefault(secret, kind)
    return secret


def register_found(value: Any) -> None:
    """Register every string under a ``SECRET_KEYS`` key anywhere in ``value`` (a
    request's variables, an answer's data), and every value of a ``secrets`` map."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, str) and key in SECRET_KEYS:
                register(SECRET_KEYS[key], item)
            elif key == "secrets" and isinstance(item, Mapping):
                for secret in item.values():
                    if isinstance(secret, str):
                        register("adapter credential", secret)
            else:
                register_found(item)
    elif isinstance(value, list):
        for item in value:
            register_found(item)


def registered() -> dict[str, str]:
    """The registered secrets, each with its kind."""
    return dict(_REGISTERED)


def leaks(paths: Iterable[Path], secrets: Mapping[str, str]) -> dict[str, int]:
    """How many registered secrets of each kind appear in the files ``paths``.

    A plain substring search over the whole text: a secret counts once however often it
    appears, and the answer names kinds only.
    """
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in paths if p.exists())
    found: dict[str, int] = {}
    for secret, kind in secrets.items():
        if secret in text:
            found[kind] = found.get(kind, 0) + 1
    return found
