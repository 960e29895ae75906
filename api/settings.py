"""Settings of the ticket API, read from ``TICKETBOT_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ticketbot.paths import default_database_url, shipped_model


class Settings(BaseSettings):
    """Configuration of one API instance.

    Every field can be set through the environment with the ``TICKETBOT_`` prefix, for example
    ``TICKETBOT_DATABASE_URL=postgresql://user@host/db``; tests pass their own values.
    """

    model_config = SettingsConfigDict(env_prefix="TICKETBOT_", extra="ignore")

    database_url: str = Field(
        default_factory=default_database_url,
        description="sqlite:///path/to/file.db or postgresql://user:password@host:port/db",
    )
    department_model: Path = Field(
        default_factory=lambda: shipped_model("department"),
        description="Pickled department classifier (its manifest sits beside it)",
    )
    review_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Tickets classified with a lower confidence are flagged needs_review "
        "(default: the threshold chosen when the model was trained, in its manifest)",
    )
    model_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="How often each API process checks the database for a newly activated "
        "department model version (`ticketbot models activate`)",
    )
    max_conversations: int = Field(
        default=1000,
        ge=1,
        description="Conversations one API process keeps (POST /conversations); the least "
        "recently used idle one goes first",
    )
    conversation_idle_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="A conversation without a message for this long expires",
    )
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    sqlite_synchronous: str = Field(
        default="FULL",
        description="SQLite synchronous pragma: FULL survives power loss, NORMAL is faster",
    )
    sqlite_cache_mib: int = Field(
        default=64,
        ge=1,
        description="Page cache of each SQLite connection, in MiB, filled as pages are read "
        "(SQLite's own default, 2 MiB, makes a large database re-read its index pages)",
    )
    sqlite_mmap_mib: int = Field(
        default=4096,
        ge=0,
        description="How much of the SQLite file is read through memory mapping, in MiB, "
        "shared by every connection and process (0: off)",
    )
    postgres_pool_size: int = Field(default=20, ge=1)
    postgres_random_page_cost: float = Field(
        default=1.1,
        ge=0,
        description="random_page_cost for this app's PostgreSQL sessions: 1.1 suits SSDs and "
        "cached data (PostgreSQL's default, 4, assumes spinning disks); 0 keeps the server's",
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        description="Requests whose line and headers exceed this get 431 and are dropped",
    )
    request_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a client has to send a whole request once it starts (or once "
        "it connects); slower ones are dropped",
    )
    metrics: Literal["key", "public", "off"] = Field(
        default="key",
        description="GET /metrics: key (any valid API key, the default), public (no key) or off",
    )
    access_log: bool = Field(
        default=True, description="One log line per request (ticketbot.access logger)"
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Open connections one server process accepts; more get 503",
    )

    event_queue_size: int = Field(
        default=1000,
        ge=1,
        description="Ticket events waiting for the ticket_event hook; more are dropped (logged)",
    )
    event_hook_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds one plugin's ticket_event call may take before it is left "
        "running and the next events go on",
    )

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].lower()
        if scheme not in {"sqlite", "postgres", "postgresql"}:
            raise ValueError(
                f"database URL must start with sqlite:/// or postgresql:// (got scheme {scheme!r})"
            )
        return value

    @field_validator("sqlite_synchronous")
    @classmethod
    def _synchronous_mode(cls, value: str) -> str:
        if value.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError("sqlite_synchronous must be OFF, NORMAL, FULL or EXTRA")
        return value.upper()
