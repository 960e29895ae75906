"""Built-in intent ``close_ticket``: close a ticket (the problem is solved, or no longer
needed), after a clear yes.

An agent or admin who says "résolu" / "resolved" marks it resolved instead (the requester
may still reopen it); a requester closes its own tickets only.
"""

from __future__ import annotations

import re
from pathlib import Path

from ticketbot import hookimpl
from ticketbot.dialogue import Turn
from ticketbot.intents import Intent, examples_from_csv
from ticketbot.ml.text import strip_accents
from ticketbot.nlu.variants import combine, generate
from ticketbot.plugins.entities import TICKET_NUMBER_FORMS
from ticketbot.plugins.lifecycle import STAFF, role, set_status, status_word, title_of

EXAMPLES = Path(__file__).resolve().parent / "data" / "close_ticket.csv"
NOTHING_DONE = ("rien n'a été fermé", "nothing was closed")
_RESOLVED = re.compile(r"\b(?:resolue?s?|resolved|resolve)\b", re.IGNORECASE)


def close(turn: Turn) -> None:
    """Ask for the number if missing, then close the ticket after a clear yes."""
    found = turn.which_ticket(("fermer", "close"), NOTHING_DONE)
    if found is None:
        return
    ticket, etag = found
    number = ticket["id"]
    target = "closed"
    if _RESOLVED.search(strip_accents(turn.text)) and ticket["status"] != "resolved":
        target = "resolved" if role(turn) in STAFF else "closed"
    if ticket["status"] == "closed" or ticket["status"] == target:
        turn.say(
            fr=f"Le ticket n°{number} est déjà {status_word(turn, ticket['status'])}. Pour le "
            f"rouvrir, dites « rouvre le ticket {number} ».",
            en=f"Ticket #{number} is already {status_word(turn, ticket['status'])}. To reopen "
            f"it, say 'reopen ticket {number}'.",
        )
        return
    resolving = target == "resolved"
    question = (
        f"{'Marquer comme résolu' if resolving else 'Fermer'} le ticket n°{number} "
        f"« {title_of(ticket)} » ? (oui/non)",
        f"{'Mark' if resolving else 'Close'} ticket #{number} '{title_of(ticket)}'"
        f"{' as resolved' if resolving else ''}? (yes/no)",
    )
    kept = (
        f"D'accord, le ticket n°{number} reste {status_word(turn, ticket['status'])}.",
        f"OK, ticket #{number} stays {status_word(turn, ticket['status'])}.",
    )
    if set_status(turn, ticket, etag, target, question, kept) is None:
        return
    turn.say(
        fr=f"Ticket n°{number} {status_word(turn, target)}. S'il le faut, dites « rouvre le "
        f"ticket {number} ».",
        en=f"Ticket #{number} {status_word(turn, target)}. If need be, say 'reopen ticket "
        f"{number}'.",
    )


# NUM: a ticket number in one of its written forms.
TEMPLATES = {
    "fr": [
        "{ferme|fermer|fermez|clôture|clôturer|clôturez|clos|clore|termine|solde|peux-tu "
        "fermer|tu peux fermer|tu peux clôturer|merci de fermer|merci de clôturer|je veux "
        "fermer|je voudrais clôturer|vous pouvez fermer|vous pouvez clore} {le ticket|la "
        "demande|l'incident|le|ma demande|mon ticket|ticket|demande|le #} NUM{ stp| svp| "
        "merci| c'est réglé| ça marche|}",
        "{c'est réglé|c'est bon|ça marche maintenant|ça remarche|problème résolu|plus "
        "besoin}{,| :|} {tu peux fermer|vous pouvez clôturer|fermez|clôture} {le ticket|la "
        "demande|le} NUM",
        "{le ticket|la demande|le} NUM {peut être fermé|peut être clôturé|est réglé, "
        "ferme-le|n'est plus utile}",
        "{fermer|clôturer|ferme|clôture} {un ticket|une demande|mon ticket|ma demande}{ stp| svp|}",
    ],
    "en": [
        "{close|close out|please close|can you close|could you close|i want to close|you "
        "can close|mark as done|resolve|shut} {ticket|the ticket|my ticket|request|my "
        "request|issue|incident|case|} NUM{ please| pls| thanks| it's fixed| it works now|}",
        "{it's fixed|it works now|all good|problem solved|no longer needed}{,| -|} "
        "{close|you can close|please close} {ticket|request|} NUM",
        "{ticket|request|issue} NUM {can be closed|is sorted, close it|is no longer needed}",
        "{close|close out|i want to close} {a ticket|my ticket|my request}{ please|}",
    ],
}
GENERATED = {"fr": 150, "en": 110}


def examples() -> dict[str, list[str]]:
    """Hand-written examples, then generated ones (with typing noise)."""
    generated = generate(TEMPLATES, GENERATED, seed="close", slots={"NUM": TICKET_NUMBER_FORMS})
    return combine(examples_from_csv(EXAMPLES), generated)


@hookimpl
def register_intents(register):
    register(
        Intent(
            name="close_ticket",
            description={
                "fr": "fermer un ticket réglé ou devenu inutile (après confirmation)",
                "en": "close a ticket that is solved or no longer needed (after confirmation)",
            },
            examples=examples(),
            handler=close,
            expects=("ticket_id", "ticket_ids"),
        )
    )
