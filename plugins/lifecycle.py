"""What the lifecycle intents (close, reopen, comment) and ``read_ticket`` share: the words
for a ticket's status and priority, and a confirmed change of status. Not a plugin itself."""

from __future__ import annotations

from typing import Any

from ticketbot.dialogue import Turn

STATUS = {
    "open": ("ouvert", "open"),
    "in_progress": ("en cours", "in progress"),
    "resolved": ("résolu", "resolved"),
    "closed": ("fermé", "closed"),
}
PRIORITY = {
    "low": ("basse", "low"),
    "normal": ("normale", "normal"),
    "high": ("haute", "high"),
    "urgent": ("urgente", "urgent"),
}
STAFF = ("agent", "admin")


def status_word(turn: Turn, status: str) -> str:
    """A status in the user's words ("en cours", "in progress")."""
    return turn.t(*STATUS.get(status, (status, status)))


def priority_word(turn: Turn, priority: str) -> str:
    """A priority in the user's words ("haute", "high")."""
    return turn.t(*PRIORITY.get(priority, (priority, priority)))


def role(turn: Turn) -> str:
    """The role of the key the bot talks with (``requester``, ``agent`` or ``admin``)."""
    return str(turn.api.whoami().get("role", "requester"))


def set_status(
    turn: Turn,
    ticket: dict[str, Any],
    etag: str | None,
    status: str,
    question: tuple[str, str],
    kept: tuple[str, str],
) -> dict[str, Any] | None:
    """Ask ``question``; on a clear yes, move ``ticket`` to ``status`` with the ETag read
    before (a change made by someone else in between is refused, not overwritten). Returns
    the ticket as it is now, or None when the user said no (``kept`` is then said)."""
    if not turn.confirm(fr=question[0], en=question[1]):
        turn.say(fr=kept[0], en=kept[1])
        return None
    return turn.api.update_ticket(ticket["id"], {"status": status}, if_match=etag)


def title_of(ticket: dict[str, Any]) -> str:
    """The ticket's title, cut for a one-line question."""
    title = str(ticket.get("title", ""))
    return title if len(title) <= 60 else title[:57].rstrip() + "…"
