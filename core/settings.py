"""Process settings, read once from the environment (``GOALGRAPH_*``).

One typed object instead of scattered ``os.environ`` look-ups, so every entry point
(server, CLI, tests) configures goalgraph the same way.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "goalgraph-dev-secret-change-me-in-production"


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
    sync_lease_seconds: float = Field(
        default=120.0, gt=0, description="How long a sync worker holds a job between batches."
    )
    import_dir: Path | None = Field(
        default=None,
        description="Folder of files for file syncs, one sub-folder per tenant slug "
        "(unset: file bindings sync only through `goalgraph import`).",
    )
    token_ttl_hours: int = Field(default=24 * 7, ge=1, description="Lifetime of minted tokens.")
    debug: bool = Field(default=False, description="Show unexpected errors instead of masking.")
    env: Literal["development", "production"] = Field(
        default="development",
        description="production refuses development shortcuts (goalgraph token).",
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
    max_query_depth: int = Field(default=24, ge=4, description="Deepest GraphQL selection.")
    fast_paths: bool = Field(
        default=True,
        description="Answer covered goal trees without the per-field executor (the same "
        "answers, several times faster); false runs every operation the standard way.",
    )


def secret_box_key(settings: Settings) -> str:
    """The key material for sealing credentials."""
    return settings.secrets_key or settings.secret


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead."""
    return Settings()
