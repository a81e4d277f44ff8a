"""Credentials at rest: sealed with Fernet (AES-128-CBC + HMAC-SHA256), or referenced.

A data binding's credentials (an API token, a webhook signing secret) are stored as one
sealed blob, never in clear and never returned by the API. A value written as
``env:NAME`` is kept as that reference and read from the process environment when the
binding runs, for deployments that keep secrets in a vault or the orchestrator.

The key comes from ``GOALGRAPH_SECRETS_KEY`` or, when unset, is derived from
``GOALGRAPH_SECRET``; set the former to rotate the token key without losing secrets.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

from cryptography.fernet import Fernet, InvalidToken

ENV_PREFIX = "env:"


class SecretError(Exception):
    """A sealed blob that does not open, or a reference to a missing variable."""


class SecretBox:
    """Seals and opens a binding's credentials with one key."""

    def __init__(self, key_material: str) -> None:
        digest = hashlib.sha256(f"goalgraph-secrets:{key_material}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, values: dict[str, str]) -> str:
        """One opaque text for all of ``values`` (empty when there are none)."""
        if not values:
            return ""
        return self._fernet.encrypt(json.dumps(values, sort_keys=True).encode()).decode()

    def unseal(self, sealed: str) -> dict[str, str]:
        """The values as stored (references left as ``env:NAME``)."""
        if not sealed:
            return {}
        try:
            values: dict[str, str] = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken as exc:
            raise SecretError("stored credentials do not open with this key") from exc
        return values

    def open(self, sealed: str) -> dict[str, str]:
        """The values to use, references resolved from the environment."""
        return {name: resolve(value, name) for name, value in self.unseal(sealed).items()}


def resolve(value: str, name: str) -> str:
    """``value`` itself, or the environment variable it references."""
    if not value.startswith(ENV_PREFIX):
        return value
    variable = value.removeprefix(ENV_PREFIX)
    found = os.environ.get(variable)
    if found is None:
        raise SecretError(f"{name} refers to environment variable {variable}, which is not set")
    return found
