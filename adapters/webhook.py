"""Webhook push: a source posts signed JSON batches to ``/hooks/{binding}``.

The signature is HMAC-SHA256, keyed with the binding's secret, over
``"{timestamp}." + body``; it is sent as ``X-Goalgraph-Signature: sha256=<hex>`` with
``X-Goalgraph-Timestamp: <unix seconds>``. A request is refused, and nothing stored,
when the body is too large (413), the signature or timestamp is missing or wrong, or the
timestamp is outside the replay window (401), the same signed body was accepted before
(409), or the body is not a JSON batch (400). An accepted batch is stored like one
batch of a pull, as a sync run of its own: bad rows are rejected with their reason,
good ones are upserted.

Body: ``{"readings": [{"metric", "subject", "period", "value"}, ...]}`` (or the bare list).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from ..core import rls
from ..core.models import DataBinding, Tenant, WebhookDelivery
from ..core.secrets import SecretBox, SecretError
from ..core.tenancy import TenantScope
from .contract import AdapterConfig, Batch, Cursor, DataAdapter
from .http_json import HttpJsonAdapter, HttpJsonConfig

SIGNATURE_HEADER = "X-Goalgraph-Signature"
TIMESTAMP_HEADER = "X-Goalgraph-Timestamp"


class WebhookConfig(AdapterConfig):
    secret: str = Field(min_length=16, description="HMAC key shared with the sender (secret).")
    max_bytes: int = Field(default=1_048_576, ge=1_024, le=16_777_216)
    replay_window_seconds: int = Field(default=300, ge=30, le=86_400)


class WebhookAdapter(DataAdapter):
    """Pushed readings; nothing to pull."""

    name: ClassVar[str] = "webhook"
    title: ClassVar[dict[str, str]] = {"zh": "Webhook 推送", "en": "Webhook push"}
    Config: ClassVar[type[AdapterConfig]] = WebhookConfig
    secret_fields: ClassVar[frozenset[str]] = frozenset({"secret"})
    pulls: ClassVar[bool] = False

    async def batches(self, cursor: Cursor | None):  # type: ignore[override]
        return
        yield  # pragma: no cover - an async generator that yields nothing


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value a sender computes."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def parse_batch(body: bytes) -> Batch:
    """The readings of a pushed body; ValueError when it is not a JSON batch."""
    try:
        payload: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"body is not JSON: {exc}") from None
    items = payload.get("readings") if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise ValueError('expected {"readings": [...]} or a list of readings')
    reader = HttpJsonAdapter(HttpJsonConfig(url="http://push.invalid", paging="none"))
    return reader.parse(items, "reading")


Store = Callable[[TenantScope, DataBinding, Batch], Awaitable[dict[str, Any]]]


def webhook_endpoint(
    box: SecretBox, scope_for: Callable[[Tenant], TenantScope], store: Store
) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The starlette endpoint for ``POST /hooks/{binding:int}``."""

    def refuse(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def endpoint(request: Request) -> JSONResponse:
        with rls.every_tenant():  # the URL names the binding, not its tenant
            binding = await DataBinding.get_or_none(
                id=request.path_params["binding"]
            ).select_related("tenant")
        if binding is None or binding.adapter != WebhookAdapter.name or not binding.active:
            return refuse(404, "no active webhook binding with this id")
        rls.bind(binding.tenant_id)
        try:
            config = WebhookConfig.model_validate({**binding.config, **box.open(binding.secrets)})
        except (SecretError, ValueError):
            return refuse(503, "the binding's webhook secret is not usable; ask an admin")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > config.max_bytes:
            return refuse(413, f"body larger than {config.max_bytes} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > config.max_bytes:
                return refuse(413, f"body larger than {config.max_bytes} bytes")
        signature = request.headers.get(SIGNATURE_HEADER, "")
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        if not signature or not stamp.isdigit():
            return refuse(401, f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required")
        if abs(time.time() - int(stamp)) > config.replay_window_seconds:
            return refuse(401, "timestamp outside the replay window")
        if not hmac.compare_digest(signature, sign(config.secret, int(stamp), body)):
            return refuse(401, "signature does not match")
        try:
            batch = parse_batch(body)
        except ValueError as exc:
            return refuse(400, str(exc))
        tenant: Tenant = binding.tenant
        scope = scope_for(tenant)
        try:
            async with in_transaction():
                await WebhookDelivery.create(
                    tenant_id=tenant.id, binding_id=binding.id, signature=signature[:128]
                )
                result = await store(scope, binding, batch)
        except IntegrityError:
            return refuse(409, "this signed body was delivered already")
        return JSONResponse(result)

    return endpoint
