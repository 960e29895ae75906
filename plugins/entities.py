"""Built-in entity extractors: ``ticket_id`` and ``department``."""

from __future__ import annotations

import re

from ticketbot import hookimpl
from ticketbot.ml.text import strip_accents

_KEYWORD = r"(?:tickets?|demandes?|requests?|incidents?|requetes?|dossiers?|cases?)"
_NUMBER_WORD = r"(?:n\s*[°º]|no\.?|num(?:ero)?\.?|number|nr\.?|#)"
_TICKET_ID = re.compile(
    rf"\b{_KEYWORD}\s*(?:{_NUMBER_WORD}\s*)?(\d{{1,18}})\b"  # ticket 12, demande n° 12, request #12
    rf"|(?:^|[^\w#])(?:n\s*[°º]|#)\s*(\d{{1,18}})\b",  # #12, n°12, n° 12
    re.IGNORECASE,
)

# Patterns run on the accent-free text; "IT" must be written in capitals (or sit next to
# "ticket(s)"), since "it" is an English pronoun.
_DEPARTMENTS = {
    "IT": [
        re.compile(r"\bIT\b"),
        re.compile(
            r"\b(?:tickets?|service|team|equipe|department)\s+it\b|\bit\s+(?:tickets?|team|department|support)\b",
            re.I,
        ),
        re.compile(r"\b(?:informatiques?|dsi|service info)\b", re.I),
    ],
    "HR": [re.compile(r"\b(?:hr|rh|drh|ressources humaines|human resources|people team)\b", re.I)],
    "Finance": [
        re.compile(
            r"\b(?:finances?|financier|compta|comptabilite|accounting|accounts payable)\b", re.I
        )
    ],
    "Facilities": [
        re.compile(
            r"\b(?:facilit(?:y|ies)|services? generaux|moyens generaux"
            r"|logistique batiment|building services)\b",
            re.I,
        )
    ],
    "Legal": [re.compile(r"\b(?:legal|juridiques?|juriste|service juridique)\b", re.I)],
}


def ticket_id(text: str) -> int | None:
    """The ticket number in ``text`` ("ticket 12", "#12", "n°12", "numéro 12", "request 12")."""
    match = _TICKET_ID.search(strip_accents(text))
    if not match:
        return None
    number = int(match.group(1) or match.group(2))
    return number if number > 0 else None


def department(text: str) -> str | None:
    """The department named in ``text`` (IT, HR, Finance, Facilities, Legal), if any."""
    folded = strip_accents(text)
    for label, patterns in _DEPARTMENTS.items():
        if any(pattern.search(folded) for pattern in patterns):
            return label
    return None


@hookimpl
def register_entity_extractors(register):
    register("ticket_id", ticket_id)
    register("department", department)
