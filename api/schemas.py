"""Request and response bodies of the API (Pydantic); every field is described for OpenAPI."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

# Titles are one line: every control character is refused. Descriptions may hold line breaks
# and tabs, but no other control character (they corrupt terminals and logs).
_TITLE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_DESCRIPTION_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# The same rules as JSON Schema patterns, so that the OpenAPI document states them.
TITLE_PATTERN = (
    r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*"
    r"[^\s\u0000-\u001f\u007f-\u009f\u2028\u2029]"
    r"[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$"
)
DESCRIPTION_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
FILTER_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"


def _valid_unicode(value: str, field: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{field} must be valid Unicode text (no lone surrogates)") from None


def _visible(value: str) -> bool:
    """True when ``value`` shows something: not only spaces, zero-width, format or
    combining characters."""
    return any(not c.isspace() and unicodedata.category(c)[0] not in "CM" for c in value)


def _clean_title(value: str) -> str:
    _valid_unicode(value, "title")
    value = value.strip()
    if not value:
        raise ValueError("title must not be blank")
    if not _visible(value):
        raise ValueError("title must show some text, not only invisible or combining characters")
    if _TITLE_FORBIDDEN.search(value):
        raise ValueError("title must be one line without control characters")
    return value


def _clean_description(value: str) -> str:
    _valid_unicode(value, "description")
    if _DESCRIPTION_FORBIDDEN.search(value):
        raise ValueError(
            "description must not contain control characters other than newlines and tabs"
        )
    return value.strip()


Title = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="Short summary, 1 to 200 characters after trimming; one line: control "
        "characters (line breaks included) are refused.",
        examples=["Mon écran ne s'allume plus"],
        json_schema_extra={"pattern": TITLE_PATTERN},
    ),
    AfterValidator(_clean_title),
]
Description = Annotated[
    str,
    Field(
        max_length=10_000,
        description="Details of the problem or request, up to 10,000 characters; line breaks "
        "and tabs are kept, other control characters are refused.",
        examples=["Depuis ce matin, écran noir sur le poste du bureau 214."],
        json_schema_extra={"pattern": DESCRIPTION_PATTERN},
    ),
    AfterValidator(_clean_description),
]


class StrictModel(BaseModel):
    """A request body: unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def _clean_body(value: str) -> str:
    _valid_unicode(value, "body")
    if _DESCRIPTION_FORBIDDEN.search(value):
        raise ValueError("body must not contain control characters other than newlines and tabs")
    value = value.strip()
    if not _visible(value):
        raise ValueError("body must not be blank")
    return value


class TicketCreate(StrictModel):
    """A new ticket. Its department is decided by the classifier, not by the client."""

    title: Title
    description: Description = ""


def _clean_text(value: str) -> str:
    _valid_unicode(value, "text")
    if not value.strip():
        raise ValueError("text must not be blank: give the ticket's title and description")
    return value


class ClassifyRequest(StrictModel):
    """A text to route to a department."""

    text: Annotated[
        str,
        Field(
            min_length=1,
            max_length=10_200,
            description="Ticket text (title and description), 1 to 10,200 characters, not blank.",
            examples=["Le VPN ne se connecte plus depuis ce matin"],
        ),
        AfterValidator(_clean_text),
    ]


class DepartmentScore(BaseModel):
    """One department and the classifier's probability for it."""

    department: str = Field(description="Department label")
    score: float = Field(ge=0, le=1, description="Probability given by the classifier")


class Classification(BaseModel):
    """The department prediction for a text."""

    department: str = Field(description="Most probable department")
    confidence: float = Field(ge=0, le=1, description="Probability of that department")
    ranking: list[DepartmentScore] = Field(description="Top 3 departments, best first")
    needs_review: bool = Field(
        description="True when a ticket with this text would be flagged for an agent to check: "
        'confidence below the review threshold, or nothing to route ("bonjour", "test")'
    )
    model_version: str = Field(description="Version of the classifier that decided")


Status = Literal["open", "in_progress", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]


class TicketOut(BaseModel):
    """A stored ticket."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Ticket number")
    title: str = Field(description="Short summary")
    description: str = Field(description="Details")
    department: str = Field(
        description="Department the ticket is with: the classifier's choice, or an agent's "
        "correction"
    )
    predicted_department: str = Field(
        description="Department the classifier chose at creation (kept when an agent changes "
        "`department`)"
    )
    confidence: float = Field(ge=0, le=1, description="Classifier probability for it")
    ranking: list[DepartmentScore] = Field(description="Top 3 departments, best first")
    needs_review: bool = Field(
        description="True when an agent should check the routing: confidence below the review "
        "threshold, or nothing to route; cleared when an agent sets the department"
    )
    model_version: str = Field(description="Version of the classifier that routed the ticket")
    status: Status = Field(
        description="open, in_progress, resolved or closed; new tickets are open"
    )
    priority: Priority = Field(description="low, normal, high or urgent; new tickets are normal")
    assignee: str | None = Field(description="Name of the agent or admin key handling it, or null")
    created_by: str | None = Field(description="Name of the key that created it")
    created_at: datetime = Field(description="Creation time, ISO 8601, UTC")
    updated_at: datetime = Field(
        description="Time of the last change of the ticket or of its comments, ISO 8601, UTC"
    )


class TicketPage(BaseModel):
    """One page of tickets (newest first unless ``sort`` says otherwise)."""

    items: list[TicketOut] = Field(description="Tickets on this page")
    total: int = Field(
        ge=0,
        description="Number of tickets matching the filters: exact up to 1,000; above, "
        "1,000 with total_exact false",
    )
    total_exact: bool = Field(
        default=True, description="False when there are more than 1,000 (total is then 1,000)"
    )
    limit: int = Field(ge=1, le=100, description="Page size asked for")
    offset: int = Field(ge=0, description="Number of matching tickets skipped")
    next_cursor: str | None = Field(
        default=None,
        description="Send it as cursor= (same filters and sort) for the next page; null on "
        "the last page",
    )


def _without_defaults(schema: dict) -> None:
    """An omitted field of a patch is unchanged: its schema shows no ``"default": null``
    beside a type that is not nullable."""
    for field in schema["properties"].values():
        field.pop("default", None)


class TicketPatch(StrictModel):
    """A JSON merge patch (RFC 7396) of a ticket: only the fields given change.

    Agents and admins may change every field; a requester may only close its own ticket or
    reopen it (``status``).
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_defaults)

    # Omitted fields stay as they are; only assignee may be null (unassigned).
    status: Status = Field(  # type: ignore[assignment]
        default=None,
        description="New status. Moves allowed: open -> in_progress, resolved; in_progress -> "
        "open, resolved; resolved -> open; closed -> open; any -> closed (409 otherwise)",
    )
    priority: Priority = Field(default=None, description="New priority")  # type: ignore[assignment]
    assignee: Annotated[str, Field(min_length=1, max_length=100, pattern=FILTER_PATTERN)] | None = (
        Field(
            default=None,
            description="Name of an agent or admin key, or null to unassign",
        )
    )
    department: Annotated[str, Field(min_length=1, max_length=100, pattern=FILTER_PATTERN)] = Field(
        default=None,  # type: ignore[assignment]
        description="One of the department model's labels (any case); clears needs_review",
    )
    needs_review: StrictBool = Field(  # type: ignore[assignment]
        default=None, description="false once an agent has checked the routing"
    )


class CommentCreate(StrictModel):
    """A new comment."""

    body: Annotated[
        str,
        Field(
            min_length=1,
            max_length=10_000,
            description="The comment, 1 to 10,000 characters, not blank; line breaks and tabs "
            "are kept, other control characters are refused.",
            examples=["Redémarrez le poste, puis dites-moi si l'écran s'allume."],
            json_schema_extra={"pattern": DESCRIPTION_PATTERN},
        ),
        AfterValidator(_clean_body),
    ]
    internal: StrictBool = Field(
        default=False,
        description="An internal note, seen by agents and admins only (requesters may not "
        "write one)",
    )


class CommentOut(BaseModel):
    """A comment on a ticket."""

    id: int = Field(description="Comment number")
    ticket_id: int = Field(description="Ticket it belongs to")
    body: str = Field(description="The comment")
    internal: bool = Field(description="True for an internal note (agents and admins only)")
    author: str = Field(description="Name of the key that wrote it")
    created_at: datetime = Field(description="When it was written, ISO 8601, UTC")


class CommentPage(BaseModel):
    """One page of a ticket's comments, oldest first."""

    items: list[CommentOut] = Field(description="Comments on this page")
    total: int = Field(ge=0, description="Number of comments the caller may see")
    limit: int = Field(ge=1, le=100, description="Page size asked for")
    offset: int = Field(ge=0, description="Number of comments skipped")


class Routing(BaseModel):
    """What the classifier decided when the ticket was created."""

    department: str = Field(description="Department chosen")
    confidence: float = Field(ge=0, le=1, description="Its probability")
    ranking: list[DepartmentScore] = Field(description="Top 3 departments, best first")
    needs_review: bool = Field(description="Whether the ticket was flagged for review")
    model_version: str = Field(description="Version of the classifier")


class EventOut(BaseModel):
    """One entry of a ticket's history.

    - ``created``: ``routing`` says what the classifier decided;
    - ``changed``: ``field`` went ``from`` one value ``to`` another;
    - ``commented``: ``comment_id`` and ``internal`` name the comment.
    """

    model_config = ConfigDict(populate_by_name=True)

    id: int = Field(description="Event number (increasing)")
    ticket_id: int = Field(description="Ticket it belongs to")
    kind: Literal["created", "changed", "commented"] = Field(description="What happened")
    by: str | None = Field(description="Name of the key that did it")
    at: datetime = Field(description="When, ISO 8601, UTC")
    field: Literal["status", "priority", "assignee", "department", "needs_review"] | None = Field(
        default=None, description="For changed: the field"
    )
    from_: str | bool | None = Field(
        default=None, alias="from", description="For changed: the value before"
    )
    to: str | bool | None = Field(default=None, description="For changed: the value after")
    routing: Routing | None = Field(default=None, description="For created: the routing")
    comment_id: int | None = Field(default=None, description="For commented: the comment")
    internal: StrictBool = Field(
        default=False, description="True for an internal note's event (agents and admins only)"
    )


class EventPage(BaseModel):
    """One page of a ticket's history, oldest first."""

    items: list[EventOut] = Field(description="Events on this page")
    total: int = Field(ge=0, description="Number of events the caller may see")
    limit: int = Field(ge=1, le=100, description="Page size asked for")
    offset: int = Field(ge=0, description="Number of events skipped")


class Me(BaseModel):
    """The key a request is made with."""

    name: str = Field(description="The key's name")
    role: Literal["requester", "agent", "admin"] = Field(description="What it may do")


class AuditOut(BaseModel):
    """One deletion in the audit log."""

    id: int = Field(description="Entry number")
    ticket_id: int = Field(description="Number of the ticket deleted")
    action: Literal["deleted"] = Field(description="What was done")
    by: str | None = Field(description="Name of the key that did it")
    at: datetime = Field(description="When, ISO 8601, UTC")


class AuditPage(BaseModel):
    """One page of the audit log, newest first."""

    items: list[AuditOut] = Field(description="Entries on this page")
    total: int = Field(ge=0, description="Number of entries matching the filter")
    limit: int = Field(ge=1, le=100, description="Page size asked for")
    offset: int = Field(ge=0, description="Number of entries skipped")


class ModelInfo(BaseModel):
    """The department model in use, from its manifest."""

    version: str = Field(description="Model version (recorded on every ticket it labels)")
    labels: list[str] = Field(description="Departments it can choose")
    trained_at: str | None = Field(default=None, description="Training date (UTC)")
    rows: int | None = Field(default=None, description="Training examples")
    cv_accuracy: float | None = Field(default=None, description="Cross-validated accuracy")
    cv_macro_f1: float | None = Field(default=None, description="Cross-validated macro-F1")
    review_threshold: float | None = Field(
        default=None, description="Tickets routed with a lower confidence get needs_review"
    )


class Health(BaseModel):
    """Service health."""

    status: Literal["ok", "degraded"] = Field(
        description="ok, or degraded when the database cannot serve"
    )
    database: bool = Field(
        description="True when the database answers, holds its tables and takes writes"
    )
    problem: str | None = Field(
        default=None,
        description="What is wrong with the database (unreachable, read-only, disk full...)",
    )
    model_version: str = Field(description="Version of the department classifier")
    model: ModelInfo = Field(description="The department classifier and its figures")


class Problem(BaseModel):
    """An error, as RFC 9457 application/problem+json."""

    type: str = Field(description="Stable identifier of the kind of error")
    title: str = Field(description="Short human summary of the kind of error")
    status: int = Field(description="HTTP status code")
    detail: str = Field(description="What went wrong in this case and what to do")
    errors: list[FieldError] | None = Field(
        default=None, description="For 422: each field at fault and why"
    )
    current: str | None = Field(
        default=None, description="For a refused status move (409, 403): the ticket's status"
    )
    allowed: list[str] | None = Field(
        default=None,
        description="For a refused status move (409, 403): the statuses it may go to from "
        "`current`",
    )
    labels: list[str] | None = Field(
        default=None, description="For a refused department (422): the model's labels"
    )


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="Where the value is, e.g. body.title or query.limit")
    message: str = Field(description="Why it is refused")
    type: str = Field(description="Machine-readable reason")


Problem.model_rebuild()
