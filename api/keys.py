"""API keys: creation, listing, revocation and verification.

A key is shown once, when created; only its SHA-256 is stored, with its first characters
(``prefix``) to find it and to recognise it in listings. Verification looks the key up by
prefix and compares the hashes in constant time.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ticketbot.api.models import BoundModels, bind_models, utc_now
from ticketbot.api.settings import Settings

ROLES = ("requester", "agent", "admin")
KEY_PREFIX = "tb_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}")  # the whole name: fullmatch


class ApiKeyError(ValueError):
    """A key cannot be created or revoked; the message says why."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id, name and role."""

    key_id: int
    name: str
    role: str


def generate_key() -> str:
    """A new random key: ``tb_`` and 43 URL-safe characters (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyStore:
    """API keys in the ticket database."""

    def __init__(self, models: BoundModels, cache_seconds: float = 5.0) -> None:
        self.models = models
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def create(self, name: str, role: str) -> tuple[Principal, str]:
        """Create a key; returns it (the only time it is visible) with its principal."""
        if role not in ROLES:
            raise ApiKeyError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
        if not _NAME.fullmatch(name or ""):
            raise ApiKeyError("name must be 1-100 letters, digits, '.', '_', '-' or '@'")
        api_key = self.models.api_key
        with self.models.database.connection_context(), self.models.database.atomic():
            if api_key.get_or_none(api_key.name == name) is not None:
                raise ApiKeyError(f"a key named {name!r} already exists; choose another name")
            key = generate_key()
            row = api_key.create(
                name=name, role=role, key_hash=hash_key(key), prefix=key[:PREFIX_LENGTH]
            )
        return Principal(row.id, name, role), key

    def list(self) -> list[dict]:
        """Every key (never the key itself): name, role, prefix, created, revoked."""
        api_key = self.models.api_key
        with self.models.database.connection_context():
            return [
                {
                    "name": row.name,
                    "role": row.role,
                    "prefix": row.prefix,
                    "created_at": row.created_at.isoformat(),
                    "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
                }
                for row in api_key.select().order_by(api_key.id)
            ]

    def revoke(self, name: str) -> None:
        """Revoke the key called ``name`` (it stops working within the cache delay)."""
        api_key = self.models.api_key
        with self.models.database.connection_context():
            updated = (
                api_key.update(revoked_at=utc_now())
                .where((api_key.name == name) & api_key.revoked_at.is_null())
                .execute()
            )
        if not updated:
            raise ApiKeyError(f"no active key named {name!r} (see `ticketbot keys list`)")
        with self._lock:
            self._cache.clear()

    def count_active(self) -> int:
        """Number of keys not revoked."""
        api_key = self.models.api_key
        with self.models.database.connection_context():
            return api_key.select().where(api_key.revoked_at.is_null()).count()

    def cached(self, presented: str) -> Principal | None:
        """The principal of a key verified less than ``cache_seconds`` ago (no I/O), else None."""
        with self._lock:
            cached = self._cache.get(hash_key(presented))
        return cached[0] if cached and cached[1] > time.monotonic() else None

    def verify(self, presented: str) -> Principal | None:
        """The principal of a valid, unrevoked key, else None.

        Results are cached for ``cache_seconds`` so that a busy client does not cost one
        extra query per request; a revoked key stops working within that delay.
        """
        if not presented.startswith(KEY_PREFIX) or len(presented) > 200:
            return None
        digest = hash_key(presented)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(digest)
        if cached and cached[1] > now:
            return cached[0]
        api_key = self.models.api_key
        with self.models.database.connection_context():
            candidates = list(
                api_key.select().where(
                    (api_key.prefix == presented[:PREFIX_LENGTH]) & api_key.revoked_at.is_null()
                )
            )
        found = None
        for row in candidates:
            if hmac.compare_digest(row.key_hash, digest):
                found = Principal(row.id, row.name, row.role)
        if found is not None:
            with self._lock:
                self._cache[digest] = (found, now + self.cache_seconds)
        return found


@contextmanager
def open_key_store(settings: Settings) -> Iterator[KeyStore]:
    """The API keys of ``settings``' database (tables created), closed afterwards.

    For tools outside a running API: the CLI, the server's start-up checks, the shell.
    """
    from ticketbot.api.db import close_database, connect_database

    models = bind_models(connect_database(settings))
    try:
        models.create_tables()
        yield KeyStore(models)
    finally:
        close_database(models.database)


def write_secret(path: Path, secret: str) -> None:
    """Write ``secret`` to ``path`` readable by its owner only (mode 600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def ensure_local_key(store: KeyStore, key_file: Path, role: str = "admin") -> str:
    """The key kept in ``key_file`` if it is valid for this database, else a new one.

    Used by the shell's embedded API: the local user owns the local database, so the key
    is an admin key, created on first start and kept with mode 600.
    """
    try:
        existing = key_file.read_text(encoding="utf-8").strip()
    except OSError:
        existing = ""
    if existing and store.verify(existing) is not None:
        return existing
    base = "local-" + re.sub(r"[^A-Za-z0-9_.@-]", "_", getpass.getuser() or "user")
    taken = {key["name"] for key in store.list()}
    name = (
        base
        if base not in taken
        else next(f"{base}-{n}" for n in range(2, 10_000) if f"{base}-{n}" not in taken)
    )
    _, key = store.create(name, role)
    write_secret(key_file, key)
    return key
