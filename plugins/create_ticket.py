"""Built-in intent ``create_ticket``: open a ticket from what the user describes."""

from __future__ import annotations

import re
from pathlib import Path

from ticketbot import hookimpl
from ticketbot.dialogue import Turn, is_cancel
from ticketbot.intents import Intent, examples_from_csv
from ticketbot.ml.text import strip_accents

EXAMPLES = Path(__file__).resolve().parent / "data" / "create_ticket.csv"
TITLE_MAX = 200

# Words that only say "I want a ticket"; a line with two other words carries the problem.
_REQUEST_WORDS = frozenset(
    """
    a ai aimerais aide aider an avoir besoin bonjour c ca cree creer creez create d de declarer
    demande demandes des dois du en est et faire fais faudrait faut file for hello help hi i il
    incident incidents issue j je l la le les like log me merci moi mon my need new nouveau
    nouvelle open ouvre ouvrez ouvrir pb please pls plz pour pourriez pouvez probleme problem
    problems raise report request requete s signale signaler signalement souci souhaite
    soumettre stp submit svp t te the ticket tickets to tu un une veux voudrais vous want would
    y you can could get make have got some quelque chose something
    """.split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# "nouveau ticket : <problem>", "ticket - <problem>", "create a ticket for <problem>"...
_PREFIX = re.compile(
    r"^.{0,60}?\b(?:ticket|demande|incident|request|issue|requete)s?\b\s*"
    r"(?:[:\-–]|pour|concernant|car|parce que|about|for|regarding|because)\s+"
    r"(?:(?:le|la|les|un|une|the|a|an|mon|ma|mes|my)\s+)?",
    re.IGNORECASE,
)


def problem_in(text: str) -> str | None:
    """The problem the line describes, or None if it only asks for a ticket."""
    explicit = text.split(":", 1)[1].strip() if ":" in text else ""
    if explicit and _only_request_words(text.split(":", 1)[0]) is False:
        explicit = ""
    if explicit:
        return explicit
    content = [w for w in _WORD.findall(strip_accents(text.casefold())) if w not in _REQUEST_WORDS]
    return text.strip() if len(content) >= 2 else None


def _only_request_words(text: str) -> bool:
    words = _WORD.findall(strip_accents(text.casefold()))
    return all(w in _REQUEST_WORDS for w in words)


def title_and_description(problem: str) -> tuple[str, str]:
    """A one-line title (at most 200 characters) and the full text as description."""
    stripped = _PREFIX.sub("", problem, count=1).strip() or problem.strip()
    first_line = " ".join(stripped.split())
    title = first_line[0].upper() + first_line[1:] if first_line else problem.strip()
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"
    description = problem.strip() if problem.strip().casefold() != title.casefold() else ""
    return title, description


def create(turn: Turn) -> None:
    """Create the ticket the user describes, asking for the problem if the line lacks it."""
    problem = problem_in(turn.text)
    if problem is None:
        answer = turn.ask(
            fr="Décrivez votre problème ou votre demande en une phrase (ou « annuler ») :",
            en="Describe your problem or request in one sentence (or 'cancel'):",
        )
        if is_cancel(answer):
            turn.say(fr="D'accord, aucun ticket n'a été créé.", en="OK, no ticket was created.")
            return
        problem = answer.strip()
    title, description = title_and_description(problem)
    ticket = turn.api.create_ticket(title, description)
    turn.say(
        fr=f"Ticket n°{ticket['id']} créé : « {ticket['title']} », affecté au service "
        f"{ticket['department']} (confiance {turn.percent(ticket['confidence'])}).",
        en=f'Ticket #{ticket["id"]} created: "{ticket["title"]}", routed to '
        f"{ticket['department']} (confidence {turn.percent(ticket['confidence'])}).",
    )
    if ticket.get("needs_review"):
        turn.say(
            fr="Le service choisi est incertain : un agent vérifiera l'affectation.",
            en="The department is uncertain: an agent will check the routing.",
        )


@hookimpl
def register_intents(register):
    register(
        Intent(
            name="create_ticket",
            description={
                "fr": "créer un ticket à partir de la description d'un problème ou d'une demande",
                "en": "create a ticket from the description of a problem or request",
            },
            examples=examples_from_csv(EXAMPLES),
            handler=create,
        )
    )
