"""What the three directories' open APIs share: app credentials exchanged for an access
token that expires, JSON answers carrying the vendor's own error code, a code for "too
many calls" and one for "this token expired".

``VendorClient`` keeps the token in the process's ``TokenCache`` until shortly before
its expiry, fetches a new one when the vendor says the token expired (once per call),
retries rate limits, 5xx answers, broken connections and timeouts with exponential
backoff and jitter (``stamina``, honouring a wait the vendor gives), and turns every
other vendor error into an ``AdapterError`` naming the vendor's code and message: the
run fails, and its cursor stays at the last stored page.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import aiohttp
import stamina

from ..contract import AdapterError
from ..http_json import retry_after
from ..org_source import TokenCache


class VendorError(AdapterError):
    """The directory refused a call; ``code`` and ``message`` are the vendor's own."""

    def __init__(self, vendor: str, code: object, message: str) -> None:
        super().__init__(f"{vendor} error {code}: {message}")
        self.code = code
        self.vendor_message = message


class Retry(Exception):
    """A failure worth another try: the vendor's rate limit, a 5xx, a cut-off body."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class TokenExpired(Exception):
    """The vendor says the access token is no longer valid."""


class VendorClient(ABC):
    """One directory's open API for one app (see the module docstring)."""

    vendor: ClassVar[str]

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: TokenCache,
        *,
        base_url: str,
        app_id: str,
        app_secret: str,
        timeout: float,
        attempts: int,
        max_wait: float,
    ) -> None:
        self.session = session
        self.tokens = tokens
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self.app_secret = app_secret
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.attempts = attempts
        self.max_wait = max_wait
        secret = hashlib.sha256(app_secret.encode()).hexdigest()[:16]
        self._key = (self.vendor, self.base_url, app_id, secret)

    # -- what each vendor says -----------------------------------------------------------

    @abstractmethod
    async def fetch_token(self) -> tuple[str, float]:
        """A new access token and its lifetime in seconds."""

    @abstractmethod
    def check(self, status: int, payload: Any, headers: Mapping[str, str]) -> None:
        """Raise ``Retry``, ``TokenExpired`` or ``VendorError`` for a failed answer."""

    @abstractmethod
    def authorise(self, token: str, params: dict[str, str], headers: dict[str, str]) -> None:
        """Put the access token where the vendor wants it (query or header)."""

    # -- calling -------------------------------------------------------------------------

    async def token(self) -> str:
        found = self.tokens.get(self._key)
        if found is None:
            try:
                found, expires_in = await self.fetch_token()
            except TokenExpired as exc:  # the app's credentials themselves were refused
                raise AdapterError(f"{self.vendor}: no access token: {exc}") from exc
            except (KeyError, TypeError, ValueError) as exc:
                raise AdapterError(f"{self.vendor}: no access token in the answer") from exc
            self.tokens.put(self._key, found, expires_in)
        return found

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        """An authorised call; a new token once if the vendor says it expired."""
        for fresh in (False, True):
            token = await self.token()
            query: dict[str, str] = dict(params or {})
            headers: dict[str, str] = {}
            self.authorise(token, query, headers)
            try:
                return await self.send(method, path, params=query, body=body, headers=headers)
            except TokenExpired as exc:
                self.tokens.drop(self._key)
                if fresh:
                    raise AdapterError(
                        f"{self.vendor}: a new access token was refused too: {exc}"
                    ) from exc
        raise AdapterError(f"{self.vendor}: no call was made")  # pragma: no cover

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """One request, retried on rate limits and transient failures."""
        url = self.base_url + path
        max_wait = self.max_wait

        def retry_on(exc: Exception) -> bool | float:
            if isinstance(exc, Retry) and exc.wait is not None:
                return min(exc.wait, max_wait)
            return isinstance(exc, (Retry, aiohttp.ClientError, TimeoutError))

        try:
            async for attempt in stamina.retry_context(
                on=retry_on,
                attempts=self.attempts,
                timeout=None,
                wait_initial=0.1,
                wait_max=max_wait,
                wait_jitter=0.2,
            ):
                with attempt:
                    async with self.session.request(
                        method,
                        url,
                        params=params,
                        json=body,
                        headers=headers,
                        timeout=self.timeout,
                    ) as response:
                        text = await response.text()
                        status = response.status
                        answer_headers = dict(response.headers)
                    if status >= 500:
                        raise Retry(
                            f"HTTP {status}", retry_after(answer_headers.get("Retry-After"))
                        )
                    try:
                        payload = json.loads(text)
                    except json.JSONDecodeError as exc:
                        if status >= 400:
                            raise VendorError(self.vendor, status, text[:200]) from None
                        raise Retry(f"malformed JSON: {exc}") from exc
                    self.check(status, payload, answer_headers)
                    if status >= 400:
                        raise VendorError(self.vendor, status, text[:200])
                    return payload
        except (Retry, aiohttp.ClientError, TimeoutError) as exc:
            raise AdapterError(
                f"{self.vendor}: {path} failed after {self.attempts} attempts: "
                f"{exc or type(exc).__name__}"
            ) from exc
        raise AdapterError(f"{self.vendor}: no attempt was made")  # pragma: no cover


def text_of(value: Any) -> str:
    """A directory field as trimmed text (None and non-text values: empty)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()
