"""Structured logs: every standard-library ``logging`` record, goalgraph's, the ORM's and
uvicorn's access log alike, through one formatter.

``GOALGRAPH_LOG_FORMAT=json`` (the default in production) writes one JSON object per
line, for a log collector; ``console`` (the default in development) writes the same
fields for people. Each record carries its timestamp, level, logger and message, and,
from context variables, the request it belongs to: ``request_id`` (``RequestContext``,
outermost middleware), ``tenant`` and ``tenant_id`` once the caller is known and the
GraphQL ``operation`` (``schema/observe.py``). Context variables rather than arguments,
so no existing ``log.info`` call had to change.

No token or credential is written: ``redact`` blanks the values of keys that name one
(authorization, token, password, secret, …) and anything that looks like one in any
text, the message included (``Bearer …``, a JWT, an API key ``gg_…``, a secret in a
query string).

``goalgraph serve`` hands ``uvicorn_log_config`` to uvicorn, which applies it in every
worker process; ``configure`` does the same for a process that logs without uvicorn.
"""

from __future__ import annotations

import logging
import logging.config
import re
import uuid
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import EventDict, Processor, WrappedLogger

from .settings import Settings

#: The context variables a request binds, all unbound when it ends.
REQUEST_KEYS = ("request_id", "tenant", "tenant_id", "operation")

REDACTED = "[redacted]"
#: Keys whose values are never written, whatever they hold.
SENSITIVE_KEY = re.compile(
    r"authorization|token|password|passwd|secret|cookie|api[_-]?key|credential", re.I
)
#: Text that looks like a credential, wherever it appears.
SENSITIVE_TEXT = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"), REDACTED),
    (re.compile(r"\bgg_[A-Za-z0-9_-]{8,}"), REDACTED),
    (
        re.compile(
            r"(?i)([?&;](?:[\w.-]*(?:token|secret|password|key|signature)|code|state)=)"
            r"[^&\s\"']+"
        ),
        r"\1" + REDACTED,
    ),
)

#: An incoming ``X-Request-ID`` kept as it is (a proxy's id joins its log to ours);
#: anything else is replaced, so a client cannot write arbitrary text into the log.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=-]{1,128}")
REQUEST_ID_HEADER = b"x-request-id"


def redact_text(text: str) -> str:
    """``text`` with whatever looks like a credential replaced."""
    for pattern, replacement in SENSITIVE_TEXT:
        text = pattern.sub(replacement, text)
    return text


def redact(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """A structlog processor: blank sensitive keys' values and credential-looking text."""
    for key, value in list(event_dict.items()):
        if key.startswith("_"):
            continue
        if SENSITIVE_KEY.search(key):
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = redact_text(value)
    return event_dict


def access_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """uvicorn's access record as fields too (client, method, path, status), so a log
    collector need not parse its message. Other records' arguments are already in
    their message and are dropped."""
    args = event_dict.pop("positional_args", None)
    record = event_dict.get("_record")
    access = isinstance(record, logging.LogRecord) and record.name == "uvicorn.access"
    if access and isinstance(args, tuple) and len(args) == 5:
        client, method, path, _version, status = args
        event_dict.update(client=client, method=method, path=path, status=status)
    return event_dict


def _pre_chain() -> list[Processor]:
    """What every record gets before it is rendered: its request's context and the
    standard fields."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        access_fields,
    ]


def formatter(json: bool) -> structlog.stdlib.ProcessorFormatter:
    """The one formatter of every handler: JSON lines or console lines, redacted."""
    renderer: list[Processor] = (
        [structlog.processors.EventRenamer("message"), structlog.processors.JSONRenderer()]
        if json
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_pre_chain(),
        pass_foreign_args=True,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            *renderer,
        ],
    )


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's ``log_config``: the root logger
    writes to stderr through ``formatter``, and uvicorn's own loggers (the access log
    among them) propagate to it instead of keeping handlers of their own."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"goalgraph": {"()": f"{__name__}.formatter", "json": settings.json_logs}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "goalgraph",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": settings.log_level},
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure(settings: Settings) -> None:
    """Log as ``goalgraph serve`` does, in a process uvicorn does not configure; code
    that logs through structlog itself goes through the same formatter."""
    logging.config.dictConfig(uvicorn_log_config(settings))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def bind(**values: object) -> None:
    """Add ``values`` to every later record of this request (tenant, operation)."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})


def request_id_of(headers: Mapping[bytes, bytes] | list[tuple[bytes, bytes]]) -> str:
    """The request's id: its ``X-Request-ID`` if sane, else a new one."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        if name.lower() == REQUEST_ID_HEADER:
            text = value.decode("latin-1")
            if SANE_REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


@contextmanager
def request_bound(request_id: str) -> Iterator[None]:
    """Bind ``request_id`` for the block; every key a request binds is gone after it
    (a test client serves many requests in one task)."""
    structlog.contextvars.unbind_contextvars(*REQUEST_KEYS)
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        yield
    finally:
        structlog.contextvars.unbind_contextvars(*REQUEST_KEYS)


class RequestContext:
    """Pure ASGI middleware: binds each request's (and websocket's) id for its log
    records and sends it back as ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope.get("headers", []))
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (n, v) for n, v in message.get("headers", []) if n.lower() != REQUEST_ID_HEADER
                ]
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        with request_bound(request_id):
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
