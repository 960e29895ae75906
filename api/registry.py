"""The model registry: department model versions stored in the database, which one is
active, and the watcher that switches every API process to a newly activated version.

A version is its model file's bytes and manifest, stored in ``model_version``; activations
are appended to ``model_activation`` (the newest row says which version routes, ``None``
for the configured default: ``TICKETBOT_DEPARTMENT_MODEL`` or the shipped model). Every API
process on the database polls the newest activation and loads it in the background: the
switch is one attribute assignment, so no request waits for it or fails during it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import peewee

from ticketbot.api.classifier import DepartmentClassifier
from ticketbot.api.models import BoundModels, utc_now
from ticketbot.ml.store import ModelError, model_from_payload, verify_payload

log = logging.getLogger("ticketbot.api")

KIND = "department"
RETRAIN = "ticketbot train department --from-database"


class RegistryError(Exception):
    """A registry operation cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Activation:
    """The newest activation: its row id (to notice the next), version (None: the
    configured default), who and when."""

    id: int
    version: str | None
    by: str | None
    at: Any


class Registry:
    """The stored department model versions of one database."""

    def __init__(self, models: BoundModels) -> None:
        self.models = models

    def store(self, payload: bytes, manifest: dict[str, Any]) -> str:
        """Store a trained version; returns its version name."""
        version = str(manifest["version"])
        row = self.models.model_version
        if row.select().where(row.version == version).exists():
            raise RegistryError(f"version {version} is already stored")
        row.create(
            version=version,
            kind=KIND,
            manifest=manifest,
            payload=payload,
            sha256=hashlib.sha256(payload).hexdigest(),
            parent=manifest.get("parent"),
            created_at=utc_now(),
        )
        return version

    def manifests(self) -> list[dict[str, Any]]:
        """Every stored version's manifest, oldest first (without loading the bytes)."""
        row = self.models.model_version
        query = (
            row.select(row.version, row.manifest, row.created_at)
            .where(row.kind == KIND)
            .order_by(row.created_at, row.id)
        )
        return [{**r.manifest, "stored_at": r.created_at.isoformat()} for r in query]

    def manifest(self, version: str) -> dict[str, Any]:
        """The manifest of a stored version (:class:`RegistryError` when unknown)."""
        row = self.models.model_version
        found = (
            row.select(row.manifest).where((row.version == version) & (row.kind == KIND)).first()
        )
        if found is None:
            raise RegistryError(self._unknown(version))
        return found.manifest

    def _unknown(self, version: str) -> str:
        known = [m["version"] for m in self.manifests()]
        listed = f"stored versions: {', '.join(known[-5:])}" if known else "none is stored yet"
        return (
            f"no department model version {version!r} in this database ({listed}; see "
            "`ticketbot models list`)"
        )

    def load(self, version: str, review_threshold: float | None = None) -> DepartmentClassifier:
        """A stored version, checked against its SHA-256 and read through the safe loader
        (:class:`ModelError` when it fails either)."""
        row = self.models.model_version
        found = row.get_or_none((row.version == version) & (row.kind == KIND))
        if found is None:
            raise RegistryError(self._unknown(version))
        payload = bytes(found.payload)
        where = f"stored model version {version}"
        if hashlib.sha256(payload).hexdigest() != found.sha256:
            raise ModelError(
                f"{where} does not match the SHA-256 stored with it: it was modified, so it is "
                "not loaded"
            )
        verify_payload(payload, found.manifest, kind=KIND, where=where)
        model = model_from_payload(payload, kind=KIND, where=where, retrain=RETRAIN)
        return DepartmentClassifier(model, found.manifest, review_threshold)

    def newest_stored(self) -> tuple[str, str] | None:
        """``(version, sha256)`` of the most recently stored version, if any."""
        row = self.models.model_version
        found = (
            row.select(row.version, row.sha256)
            .where(row.kind == KIND)
            .order_by(row.id.desc())
            .first()
        )
        return None if found is None else (found.version, found.sha256)

    def payload_sha256(self, version: str) -> str | None:
        """The SHA-256 of the bytes stored for ``version`` now (None when unknown)."""
        row = self.models.model_version
        found = row.select(row.payload).where((row.version == version) & (row.kind == KIND)).first()
        return None if found is None else hashlib.sha256(bytes(found.payload)).hexdigest()

    def latest_activation(self) -> Activation | None:
        """The newest activation, or None when no version was ever activated."""
        row = self.models.model_activation
        found = row.select().where(row.kind == KIND).order_by(row.id.desc()).first()
        return None if found is None else Activation(found.id, found.version, found.by, found.at)

    def active(self) -> str | None:
        """The active version (None: the configured default)."""
        latest = self.latest_activation()
        return latest.version if latest is not None else None

    def history(self) -> list[dict[str, Any]]:
        """Every activation and rollback, oldest first."""
        row = self.models.model_activation
        query = row.select().where(row.kind == KIND).order_by(row.id)
        return [
            {"action": r.action, "version": r.version, "by": r.by, "at": r.at.isoformat()}
            for r in query
        ]

    def activate(self, version: str | None, by: str | None, action: str = "activate") -> None:
        """Make ``version`` (None: the configured default) the active one."""
        if version is not None:
            self.manifest(version)  # exists
        self.models.model_activation.create(
            kind=KIND, version=version, by=by, action=action, at=utc_now()
        )

    def rollback_target(self) -> str | None:
        """The version a rollback returns to: the one active before the current activation
        (each rollback steps one further back); None for the configured default."""
        stack: list[str | None] = []
        for entry in self.history():
            if entry["action"] == "rollback":
                if stack:
                    stack.pop()
            else:
                stack.append(entry["version"])
        if not stack:
            raise RegistryError(
                "no version was activated in this database: the configured default is in use, "
                "there is nothing to roll back"
            )
        return stack[-2] if len(stack) >= 2 else None


class ActiveModelWatcher:
    """Polls the newest activation every ``interval`` seconds and switches ``apply`` to the
    version it names. A version that fails its integrity check is logged and never applied;
    the model in use stays.

    The newest stored version is loaded ahead, as soon as it is stored (usually long before
    anyone activates it): loading takes tens of milliseconds of CPU, and doing it at
    activation time would slow the requests served meanwhile. At activation, a version
    loaded ahead is applied only if its stored SHA-256 is still the one it was loaded with.
    """

    def __init__(
        self,
        database: peewee.Database,
        registry: Registry,
        load_default: Callable[[], DepartmentClassifier],
        apply: Callable[[DepartmentClassifier], None],
        interval: float,
        review_threshold: float | None = None,
    ) -> None:
        self.database = database
        self.registry = registry
        self.load_default = load_default
        self.apply = apply
        self.interval = interval
        self.review_threshold = review_threshold
        self._seen: int | None = None
        self._ahead: tuple[str, str, DepartmentClassifier] | None = None  # version, sha, model
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self, load_ahead: bool = True) -> None:
        """Apply the newest activation if it changed since the last check; load the newest
        stored version ahead (unless ``load_ahead`` is false)."""
        try:
            with self.database.connection_context():
                latest = self.registry.latest_activation()
                stored = self.registry.newest_stored()
        except peewee.PeeweeException as error:
            if not _missing_registry(error):
                log.warning("could not read the active model version: %s", error)
            return
        if latest is not None and latest.id != self._seen:
            self._seen = latest.id
            self._switch(latest)
        if load_ahead:
            self._load_ahead(stored)

    def _switch(self, latest: Activation) -> None:
        try:
            if latest.version is None:
                classifier = self.load_default()
            else:
                classifier = self._ready(latest.version)
        except (ModelError, RegistryError, peewee.PeeweeException) as error:
            log.error(
                "department model %s not switched to: %s; the model in use stays",
                latest.version or "(configured default)",
                error,
            )
            return
        self.apply(classifier)
        log.warning("department model switched to %s", classifier.version)

    def _ready(self, version: str) -> DepartmentClassifier:
        """The version: the one loaded ahead when the stored bytes still hash to what it was
        loaded from (hashing is cheap; decoding is what would slow requests), else loaded
        now."""
        ahead = self._ahead
        with self.database.connection_context():
            loaded_ahead = ahead is not None and ahead[0] == version and ahead[2] is not None
            if loaded_ahead and self.registry.payload_sha256(version) == ahead[1]:
                return ahead[2]
            return self.registry.load(version, self.review_threshold)

    def _load_ahead(self, stored: tuple[str, str] | None) -> None:
        if stored is None or (self._ahead is not None and self._ahead[:2] == stored):
            return
        try:
            with self.database.connection_context():
                classifier = self.registry.load(stored[0], self.review_threshold)
        except (ModelError, RegistryError, peewee.PeeweeException) as error:
            log.error("stored department model %s is refused: %s", stored[0], error)
            self._ahead = (stored[0], stored[1], None)  # type: ignore[arg-type]
            return
        self._ahead = (stored[0], stored[1], classifier)

    def start(self) -> None:
        """Apply the active version now, then check every ``interval`` seconds in a daemon
        thread (which also loads the newest stored version ahead: not on the start-up path)."""
        self.check(load_ahead=False)
        self._thread = threading.Thread(target=self._run, name="model-watcher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _missing_registry(error: BaseException) -> bool:
    text = str(error).lower()
    return "no such table" in text or "does not exist" in text
