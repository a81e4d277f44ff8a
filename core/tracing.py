"""OpenTelemetry tracing, off unless configured.

``GOALGRAPH_OTEL=otlp`` (or just ``OTEL_EXPORTER_OTLP_ENDPOINT`` set) sends spans over
OTLP/HTTP to a collector, configured by the standard ``OTEL_*`` variables
(``OTEL_SERVICE_NAME`` defaults to ``goalgraph``); ``GOALGRAPH_OTEL=console`` prints
them, to try it out. Each HTTP request gets a span from the ASGI instrumentation
(``middleware``), each GraphQL operation one from strawberry's
``OpenTelemetryExtension`` under it (``schema_extensions``), with its parsing,
validation and root fields.

The OpenTelemetry packages are the ``otel`` extra, imported only here and only when
tracing is on, so the app runs without them; asking for traces without them stops
start-up with one line. What spans carry is kept free of credentials: the document's
string literals and secret-named arguments are masked, and so is a secret in a URL.
"""

from __future__ import annotations

import atexit
import os
import re
from collections.abc import Callable, Mapping
from inspect import isawaitable
from typing import Any

from starlette.middleware import Middleware

from .i18n import msg
from .logs import REDACTED, SENSITIVE_KEY, redact_text
from .settings import ConfigError, Settings

#: Requests not traced: probes and scrapes arrive every few seconds and say nothing.
EXCLUDED_URLS = "/healthz,/readyz,/health,/metrics"
#: String literals of a GraphQL document (block strings first).
LITERALS = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"')
#: Span attributes that hold a request's URL or its query string.
URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.query")

_provider: Any = None


def mode(settings: Settings) -> str | None:
    """``otlp``, ``console``, or None when tracing is off."""
    if settings.otel:
        return settings.otel
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        return "otlp"
    return None


def tracer_provider(settings: Settings) -> Any | None:
    """This process's tracer provider, made on first use; None when tracing is off."""
    global _provider
    kind = mode(settings)
    if kind is None:
        return None
    if _provider is None:
        try:
            _provider = _make_provider(_exporter(kind), batch=kind == "otlp")
        except ImportError:
            raise ConfigError(msg("config.otel_missing")) from None
    return _provider


def use_exporter(exporter: Any) -> Any:
    """Send this process's spans to ``exporter`` from now on, each as it ends (an
    embedding program's own exporter, or a test's in-memory one); returns the provider.
    Tracing still has to be on (``GOALGRAPH_OTEL``) for an app to trace."""
    global _provider
    _provider = _make_provider(exporter, batch=False)
    return _provider


def reset() -> None:
    """Flush and forget this process's provider: the next app makes a new one."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
    _provider = None


def _exporter(kind: str) -> Any:
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _make_provider(exporter: Any, *, batch: bool) -> Any:
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME", "goalgraph")})
    provider = TracerProvider(resource=resource)
    processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
    provider.add_span_processor(processor)
    atexit.register(provider.shutdown)  # the last batch is sent when the worker stops
    return provider


def masked_document(query: str) -> str:
    """A GraphQL document fit for a span: its string literals replaced (a password may
    be written inline rather than passed as a variable)."""
    return LITERALS.sub('"***"', query)


def masked_arguments(arguments: dict[str, Any], _info: object = None) -> dict[str, Any]:
    """Resolver arguments fit for a span: scalars kept unless secret-named, input
    objects by their type's name only (their fields might hold a password)."""
    masked: dict[str, Any] = {}
    for name, value in arguments.items():
        if SENSITIVE_KEY.search(name):
            masked[name] = REDACTED
        elif isinstance(value, str):
            masked[name] = redact_text(value)
        elif value is None or isinstance(value, bool | int | float):
            masked[name] = value
        else:
            masked[name] = f"<{type(value).__name__}>"
    return masked


def schema_extensions(settings: Settings) -> list[Callable[[], Any]]:
    """The schema extension that traces operations, or none when tracing is off."""
    provider = tracer_provider(settings)
    if provider is None:
        return []
    spans = _operation_spans()
    return [lambda: spans(arg_filter=masked_arguments, tracer_provider=provider)]


def _operation_spans() -> type:
    """strawberry's ``OpenTelemetryExtension`` with spans for root fields only (a goal
    tree has tens of thousands of fields; their resolvers stay synchronous) and the
    document masked."""
    from opentelemetry import trace
    from strawberry.extensions import LifecycleStep
    from strawberry.extensions.tracing import OpenTelemetryExtension

    class OperationSpans(OpenTelemetryExtension):
        def on_operation(self) -> Any:
            steps = super().on_operation()
            next(steps)
            query = self.execution_context.query
            if query:
                span = self._span_holder[LifecycleStep.OPERATION]
                span.set_attribute("query", masked_document(query))
            yield
            next(steps, None)

        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            if info.path.prev is not None:
                return _next(root, info, *args, **kwargs)
            return self._root_field(_next, root, info, *args, **kwargs)

        async def _root_field(
            self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any
        ) -> Any:
            parent = trace.set_span_in_context(self._span_holder[LifecycleStep.OPERATION])
            name = f"GraphQL Resolving: {info.field_name}"
            with self._tracer.start_as_current_span(name, context=parent) as span:
                self.add_tags(span, info, kwargs)
                result = _next(root, info, *args, **kwargs)
                return await result if isawaitable(result) else result

    return OperationSpans


def _mask_url(span: Any, _scope: Mapping[str, Any]) -> None:
    """The ASGI span's URL attributes without credentials (``?token=…``)."""
    attributes = getattr(span, "attributes", None) or {}
    for key in URL_ATTRIBUTES:
        value = attributes.get(key)
        if isinstance(value, str):
            span.set_attribute(key, redact_text(value))


def middleware(settings: Settings) -> list[Middleware]:
    """The ASGI instrumentation around the app, or none when tracing is off."""
    provider = tracer_provider(settings)
    if provider is None:
        return []
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return [
        Middleware(
            OpenTelemetryMiddleware,
            tracer_provider=provider,
            excluded_urls=EXCLUDED_URLS,
            server_request_hook=_mask_url,
        )
    ]
