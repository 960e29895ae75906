"""Peewee tables: tickets, their comments, history and department corrections, the audit of
deletions, API keys, and the model registry.

The classes here are unbound templates; :func:`bind_models` makes subclasses bound to one
database, so several API instances (tests, the shell's embedded API) never share state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import peewee

from ticketbot.ml.text import strip_accents


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTimeField(peewee.DateTimeField):
    """A datetime stored as naive UTC and read back timezone-aware."""

    def db_value(self, value: datetime | None):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class JSONTextField(peewee.TextField):
    """A JSON document stored as text (portable across SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class TicketIdField(peewee.BigAutoField):
    """An auto-increment primary key whose values are never reused.

    SQLite hands out the largest rowid + 1, so deleting the newest ticket would give its
    number to the next one; AUTOINCREMENT prevents that. PostgreSQL sequences never reuse.
    """

    def ddl(self, ctx):
        nodes = super().ddl(ctx)
        if isinstance(self.model._meta.database, peewee.SqliteDatabase):
            return peewee.NodeList((nodes, peewee.SQL("AUTOINCREMENT")))
        return nodes


class ApiKey(peewee.Model):
    """An API key: only its SHA-256 is stored, with its name, role and lifetime."""

    name = peewee.CharField(max_length=100, unique=True)
    role = peewee.CharField(max_length=20)
    key_hash = peewee.CharField(max_length=64, unique=True)
    prefix = peewee.CharField(max_length=16, index=True)
    created_at = UTCDateTimeField(default=utc_now)
    revoked_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "api_key"


class Ticket(peewee.Model):
    """A help-desk ticket with the department the classifier gave it."""

    id = TicketIdField()
    title = peewee.CharField(max_length=200)
    description = peewee.TextField(default="")
    department = peewee.CharField(max_length=100)
    confidence = peewee.FloatField()
    ranking = JSONTextField()
    needs_review = peewee.BooleanField(default=False)
    model_version = peewee.CharField(max_length=100)
    status = peewee.CharField(max_length=20, default="open")
    created_at = UTCDateTimeField(default=utc_now)
    created_by = peewee.ForeignKeyField(ApiKey, null=True, on_delete="SET NULL", index=False)
    # Title and description folded by search_key(): what ?q= searches, so that "ecran",
    # "ÉCRAN" and "écran" all find "Écran noir" on SQLite and PostgreSQL alike.
    search_text = peewee.TextField(default="")
    # Since schema version 2 (the ticket's life):
    priority = peewee.CharField(max_length=10, default="normal")
    assignee = peewee.CharField(max_length=100, null=True)
    updated_at = UTCDateTimeField(default=utc_now)
    predicted_department = peewee.CharField(max_length=100, null=True)
    # Bumped by every change: the ETag, so that concurrent edits cannot overwrite each other.
    revision = peewee.IntegerField(default=1)
    # Since schema version 4 (imports): the ticket's number in the help desk it came from,
    # and who set its department when not the router ("import": kept from the file, an
    # agent-confirmed label the learning loop trains on).
    external_id = peewee.CharField(max_length=200, null=True, unique=True)
    labelled_by = peewee.CharField(max_length=20, null=True)

    class Meta:
        table_name = "ticket"
        # One index per filter, followed by the default order (newest first, then id):
        # a filtered page walks one index in order and stops after a page. The text search
        # has its own index (ticketbot.api.search).
        indexes = (
            (("created_at", "id"), False),
            (("updated_at", "id"), False),
            (("department", "created_at", "id"), False),
            (("status", "created_at", "id"), False),
            (("priority", "created_at", "id"), False),
            (("assignee", "created_at", "id"), False),
            (("created_by", "created_at", "id"), False),
            (("needs_review", "created_at", "id"), False),
            # Since schema version 5, the queues: filters combined (ticketbot.api.listing).
            (("department", "status", "priority", "created_at", "id"), False),
            (("assignee", "status", "priority", "created_at", "id"), False),
            (("status", "priority", "created_at", "id"), False),
        )


class Comment(peewee.Model):
    """A comment on a ticket; ``internal`` ones are for agents only."""

    body = peewee.TextField()
    internal = peewee.BooleanField(default=False)
    author = peewee.CharField(max_length=100)
    created_at = UTCDateTimeField(default=utc_now)

    class Meta:
        table_name = "comment"


class TicketEvent(peewee.Model):
    """One entry of a ticket's append-only history: ``kind`` and what changed."""

    kind = peewee.CharField(max_length=20)
    data = JSONTextField()
    by = peewee.CharField(max_length=100, null=True)
    at = UTCDateTimeField(default=utc_now)
    internal = peewee.BooleanField(default=False)

    class Meta:
        table_name = "ticket_event"


class AuditEntry(peewee.Model):
    """A deletion: which ticket, by whom, when. It outlives the ticket (no foreign key)."""

    ticket_number = peewee.BigIntegerField(index=True)
    action = peewee.CharField(max_length=20)
    by = peewee.CharField(max_length=100, null=True)
    at = UTCDateTimeField(default=utc_now, index=True)

    class Meta:
        table_name = "audit_entry"


class Correction(peewee.Model):
    """An agent's change of a ticket's department: what the model had predicted (with its
    confidence and version), the department before and after, who and when. The learning
    loop trains on them; they go with their ticket when it is deleted."""

    predicted_department = peewee.CharField(max_length=100)
    confidence = peewee.FloatField()
    model_version = peewee.CharField(max_length=100, index=True)
    from_department = peewee.CharField(max_length=100)
    department = peewee.CharField(max_length=100)
    by = peewee.CharField(max_length=100, null=True)
    at = UTCDateTimeField(default=utc_now, index=True)

    class Meta:
        table_name = "correction"


class ModelVersion(peewee.Model):
    """A trained model stored in the database (its file's bytes and manifest), so that every
    API process on the database can load it."""

    version = peewee.CharField(max_length=100, unique=True)
    kind = peewee.CharField(max_length=20, index=True)
    manifest = JSONTextField()
    payload = peewee.BlobField()
    sha256 = peewee.CharField(max_length=64)
    parent = peewee.CharField(max_length=100, null=True)
    created_at = UTCDateTimeField(default=utc_now)

    class Meta:
        table_name = "model_version"


class ModelActivation(peewee.Model):
    """One switch of the model in use (append-only): the newest row of a kind is the active
    version; ``version`` None means the configured default (the file the API is set up
    with)."""

    kind = peewee.CharField(max_length=20, index=True)
    action = peewee.CharField(max_length=20, default="activate")
    version = peewee.CharField(max_length=100, null=True)
    by = peewee.CharField(max_length=100, null=True)
    at = UTCDateTimeField(default=utc_now)

    class Meta:
        table_name = "model_activation"


class SchemaVersion(peewee.Model):
    """The version of the schema the database is at (one row)."""

    version = peewee.IntegerField()
    updated_at = UTCDateTimeField(default=utc_now)

    class Meta:
        table_name = "schema_version"


def search_key(text: str) -> str:
    """Lowercase, accent-free form of ``text`` used for searching."""
    return strip_accents(text.casefold())


@dataclass(frozen=True)
class BoundModels:
    """The model classes bound to one database."""

    database: peewee.Database
    ticket: type[Ticket]
    api_key: type[ApiKey]
    health_check: type[HealthCheck]
    comment: type[Comment]
    event: type[TicketEvent]
    audit: type[AuditEntry]
    schema_version: type[SchemaVersion]
    correction: type[Correction]
    model_version: type[ModelVersion]
    model_activation: type[ModelActivation]

    @property
    def tables(self) -> list[type[peewee.Model]]:
        """Every table, parents first."""
        return [
            self.api_key,
            self.ticket,
            self.comment,
            self.event,
            self.audit,
            self.health_check,
            self.schema_version,
            self.correction,
            self.model_version,
            self.model_activation,
        ]

    def create_tables(self) -> None:
        """Bring the database to the latest schema (see :mod:`ticketbot.api.migrations`)."""
        from ticketbot.api.migrations import migrate

        with self.database.connection_context():
            migrate(self)


class HealthCheck(peewee.Model):
    """A row written and rolled back by ``/health``: proof that the database takes writes."""

    at = UTCDateTimeField(default=utc_now)

    class Meta:
        table_name = "health_check"


def missing_table(error: BaseException) -> bool:
    """True when a database error says a table does not exist (SQLite or PostgreSQL)."""
    text = str(error).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def bind_models(database: peewee.Database) -> BoundModels:
    """Subclasses of the tables above bound to ``database``."""

    def bound(template: type[peewee.Model], **fields) -> type:
        meta = type("Meta", (), {"database": database, "table_name": template._meta.table_name})
        return type(template.__name__, (template,), {"Meta": meta, **fields})

    api_key = bound(ApiKey)
    ticket = bound(
        Ticket,
        created_by=peewee.ForeignKeyField(api_key, null=True, on_delete="SET NULL", index=False),
    )
    comment = bound(Comment, ticket=peewee.ForeignKeyField(ticket, on_delete="CASCADE", index=True))
    event = bound(
        TicketEvent, ticket=peewee.ForeignKeyField(ticket, on_delete="CASCADE", index=True)
    )
    return BoundModels(
        database,
        ticket,
        api_key,
        bound(HealthCheck),
        comment,
        event,
        bound(AuditEntry),
        bound(SchemaVersion),
        bound(Correction, ticket=peewee.ForeignKeyField(ticket, on_delete="CASCADE", index=True)),
        bound(ModelVersion),
        bound(ModelActivation),
    )
