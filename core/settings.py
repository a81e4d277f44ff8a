"""Process settings, read once from the environment (``GOALGRAPH_*``).

One typed object instead of scattered ``os.environ`` look-ups, so every entry point
(server, CLI, tests) configures goalgraph the same way.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .i18n import Msg, msg

DEV_SECRET = "goalgraph-dev-secret-change-me-in-production"

#: What to do about a refused setting, by field: the second half of its one-line error.
FIXES = {
    "secret": msg("config.fix.secret"),
    "database_url": msg("config.fix.database_url"),
    "migrate_database_url": msg("config.fix.migrate_database_url"),
    "env": msg("config.fix.env"),
}


class ConfigError(Exception):
    """A setting that stops start-up. Its message is one line naming the setting and
    the fix; the command line prints it in its language and exits with code 2, never a
    traceback. ``str()`` is English, for logs."""

    def __init__(self, message: Msg) -> None:
        self.message = message
        super().__init__(message.render("en"))

    def text(self, locale: str | None = None) -> str:
        return self.message.render(locale)


def _default_database_url() -> str:
    return f"sqlite://{Path.cwd() / 'goalgraph.sqlite3'}"


class Settings(BaseSettings):
    """Runtime configuration; every field maps to ``GOALGRAPH_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="GOALGRAPH_", extra="ignore")

    database_url: str = Field(
        default_factory=_default_database_url,
        description="sqlite:///path/to/file.sqlite3 or postgres://user@host:port/db",
    )
    migrate_database_url: str = Field(
        default="",
        description="PostgreSQL: the tables' owner, for `goalgraph migrate` only (blank: "
        "database_url). The app then connects through database_url as a role that owns "
        "no table, so row-level security binds it.",
    )
    secret: str = Field(
        default=DEV_SECRET,
        min_length=32,
        description="HMAC key that signs access tokens (HS256).",
    )
    secrets_key: str = Field(
        default="",
        description="Key that seals data-binding credentials (default: derived from secret).",
    )
    sync_poll_seconds: float = Field(
        default=30.0, ge=0, description="How often the server looks for due syncs (0: never)."
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        le=1_000,
        description="PostgreSQL: connections one server process keeps open at most (its "
        "pool). Every worker process has its own: workers × db_pool_size, plus one "
        "listening connection per worker, must stay under the server's max_connections "
        "(docs/deploy.md).",
    )
    sync_lease_seconds: float = Field(
        default=120.0, gt=0, description="How long a sync worker holds a job between batches."
    )
    scan_every_minutes: float = Field(
        default=60.0,
        ge=0,
        description="Minutes between the feedback loop's scans of each tenant by the "
        "scheduler (`goalgraph worker`, or `serve` with its scheduler on), once per "
        "interval whichever worker; 0: only the scans that follow syncs.",
    )
    import_dir: Path | None = Field(
        default=None,
        description="Folder of files for file syncs, one sub-folder per tenant slug "
        "(unset: file bindings sync only through `goalgraph import`).",
    )
    token_ttl_hours: int = Field(default=24 * 7, ge=1, description="Lifetime of minted tokens.")
    default_locale: Literal["zh-CN", "en"] = Field(
        default="en",
        description="Language of messages for a caller who names none (token, setting, "
        "Accept-Language).",
    )
    debug: bool = Field(default=False, description="Show unexpected errors instead of masking.")
    env: Literal["development", "production"] = Field(
        default="development",
        description="production: no GraphiQL, introspection or field suggestions, no "
        "`goalgraph token`, no development secret, HSTS, WebSocket origins checked.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where people reach this server: the base of invitation, password "
        "reset and single sign-on links.",
    )
    access_token_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="Lifetime of a signed-in access token."
    )
    refresh_token_days: int = Field(
        default=30, ge=1, le=365, description="Lifetime of a refresh token family."
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Production: the origins (https://okr.example.com) whose pages may open "
        "WebSockets to this server, comma-separated; empty: the origin of public_url.",
    )
    max_query_depth: int = Field(default=24, ge=4, description="Deepest GraphQL selection.")
    max_query_cost: int = Field(
        default=100_000,
        ge=1,
        description="Most an operation may cost (fields × list sizes, schema/cost.py); "
        "dearer operations are refused before they run.",
    )
    max_query_tokens: int = Field(
        default=5_000,
        ge=200,
        description="Most tokens a GraphQL document may have: parsing a long one blocks "
        "the event loop for every tenant.",
    )
    fast_paths: bool = Field(
        default=True,
        description="Answer covered goal trees without the per-field executor (the same "
        "answers, several times faster); false runs every operation the standard way.",
    )
    rate_limit_per_token: float = Field(
        default=500.0,
        ge=0,
        description="Cost units per second one caller (a session, an API key, a minted "
        "token's person) may spend on GraphQL operations (0: no limit).",
    )
    rate_limit_per_token_burst: float = Field(
        default=5000.0, ge=0, description="How many cost units one caller may spend at once."
    )
    rate_limit_per_tenant: float = Field(
        default=2000.0,
        ge=0,
        description="Cost units per second all callers of one tenant together may spend "
        "(0: no limit).",
    )
    rate_limit_per_tenant_burst: float = Field(
        default=20000.0, ge=0, description="How many cost units one tenant may spend at once."
    )
    rate_limit_anonymous: float = Field(
        default=20.0,
        ge=0,
        description="Cost units per second per client address for callers who are not "
        "signed in (sign-in, refresh, introspection; 0: no limit).",
    )
    rate_limit_anonymous_burst: float = Field(
        default=200.0, ge=0, description="How many cost units one address may spend at once."
    )
    redis_url: str = Field(
        default="",
        description="redis://host:port/db: rate-limit buckets shared by every server "
        "process (blank: each process keeps its own, in memory).",
    )
    redis_prefix: str = Field(
        default="goalgraph:rl:",
        description="What the rate-limit keys in Redis start with (deployments that share "
        "one Redis each take their own).",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body (JSON) accepted."
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="Largest multipart request body (a roster file for importRoster).",
    )
    ws_max_message_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest websocket message accepted."
    )
    ws_max_subscriptions: int = Field(
        default=20, ge=1, description="Most operations one websocket may run at once."
    )
    ws_subscribe_rate: float = Field(
        default=2.0,
        ge=0,
        description="Subscribe messages per second one websocket may send (0: no limit).",
    )
    ws_subscribe_burst: float = Field(
        default=30.0, ge=0, description="Subscribe messages one websocket may send at once."
    )
    log_format: Literal["", "console", "json"] = Field(
        default="",
        description="How log lines look: json (one object per line, for log collectors) or "
        "console (for people); blank: json in production, console otherwise (core/logs.py).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="The least severe log records written."
    )
    metrics_token: str = Field(
        default="",
        description="Production: the bearer token Prometheus sends to read /metrics; blank: "
        "/metrics is not served in production (in development it is open to all).",
    )
    readiness_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        le=30,
        description="How long /readyz waits for the database before it answers 503: a load "
        "balancer's probe must get an answer before its own timeout.",
    )
    otel: Literal["", "console", "otlp"] = Field(
        default="",
        description="OpenTelemetry traces: otlp (to OTEL_EXPORTER_OTLP_ENDPOINT) or console "
        "(spans printed, for trying it out); blank: otlp when OTEL_EXPORTER_OTLP_ENDPOINT is "
        "set, else off. Needs the otel extra (core/tracing.py).",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url", "migrate_database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if url and not url.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise PydanticCustomError("not_a_database", "", {"scheme": url.split("://")[0]})
        return url

    @model_validator(mode="after")
    def _production_secret(self) -> Settings:
        if self.env == "production" and self.secret == DEV_SECRET:
            raise PydanticCustomError("dev_secret", "")
        return self

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def json_logs(self) -> bool:
        """Whether log lines are JSON: as set, else in production only."""
        return self.log_format == "json" or (self.log_format == "" and self.production)


def describe(error: ValidationError) -> Msg:
    """One line for everything pydantic refused: ``GOALGRAPH_SECRET: … ; fix``."""
    parts = []
    for problem in error.errors():
        # the one rule across fields (the development secret in production) has no
        # location of its own, and it is the secret that must change
        field = str(problem["loc"][0]) if problem["loc"] else "secret"
        parts.append(
            msg(
                "config.setting",
                setting=f"GOALGRAPH_{field.upper()}",
                reason=_reason(problem),
                fix=FIXES.get(field, msg("config.fix.other")),
            )
        )
    return parts[0] if len(parts) == 1 else msg("config.several", parts=parts)


def _reason(problem: ErrorDetails) -> Msg:
    """Why pydantic refused a value, in the catalogue's words where goalgraph has them."""
    context = problem.get("ctx") or {}
    match problem["type"]:
        case "string_too_short":
            return msg("config.reason.too_short", min=context.get("min_length"))
        case "not_a_database":
            return msg("config.reason.not_a_database", scheme=context.get("scheme"))
        case "dev_secret":
            return msg("config.reason.dev_secret")
    return msg("config.reason.other", detail=problem["msg"])


def load_settings() -> Settings:
    """The environment's settings, or ``ConfigError`` with one line saying what to fix."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(describe(exc)) from None


def secret_box_key(settings: Settings) -> str:
    """The key material for sealing credentials."""
    return settings.secrets_key or settings.secret


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead."""
    return load_settings()
