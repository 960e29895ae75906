"""Built-in intent ``reopen_ticket``: reopen a resolved or closed ticket (the problem came
back), after a clear yes."""

from __future__ import annotations

from pathlib import Path

from ticketbot import hookimpl
from ticketbot.dialogue import Turn
from ticketbot.intents import Intent, examples_from_csv
from ticketbot.nlu.variants import combine, generate
from ticketbot.plugins.entities import TICKET_NUMBER_FORMS
from ticketbot.plugins.lifecycle import set_status, status_word, title_of

EXAMPLES = Path(__file__).resolve().parent / "data" / "reopen_ticket.csv"
NOTHING_DONE = ("rien n'a été rouvert", "nothing was reopened")


def reopen(turn: Turn) -> None:
    """Ask for the number if missing, then reopen the ticket after a clear yes."""
    found = turn.which_ticket(("rouvrir", "reopen"), NOTHING_DONE)
    if found is None:
        return
    ticket, etag = found
    number = ticket["id"]
    if ticket["status"] not in ("resolved", "closed"):
        turn.say(
            fr=f"Le ticket n°{number} n'est pas fermé : il est "
            f"{status_word(turn, ticket['status'])}. Pour ajouter une précision, dites "
            f"« commente le ticket {number} ».",
            en=f"Ticket #{number} is not closed: it is {status_word(turn, ticket['status'])}. "
            f"To add a detail, say 'comment on ticket {number}'.",
        )
        return
    question = (
        f"Rouvrir le ticket n°{number} « {title_of(ticket)} » ? (oui/non)",
        f"Reopen ticket #{number} '{title_of(ticket)}'? (yes/no)",
    )
    kept = (
        f"D'accord, le ticket n°{number} reste {status_word(turn, ticket['status'])}.",
        f"OK, ticket #{number} stays {status_word(turn, ticket['status'])}.",
    )
    if set_status(turn, ticket, etag, "open", question, kept) is None:
        return
    turn.say(
        fr=f"Ticket n°{number} rouvert. Pour dire ce qui ne va pas, dites « commente le ticket "
        f"{number} : … ».",
        en=f"Ticket #{number} reopened. To say what is wrong, say 'comment on ticket {number}: …'.",
    )


# NUM: a ticket number in one of its written forms.
TEMPLATES = {
    "fr": [
        "{rouvre|rouvrir|rouvrez|réouvre|réouvrir|réouvrez|réactive|réactiver|relance|peux-tu "
        "rouvrir|tu peux rouvrir|merci de rouvrir|je veux rouvrir|je voudrais réouvrir|vous "
        "pouvez rouvrir} {le ticket|la demande|l'incident|le|ma demande|mon ticket|ticket|"
        "demande} NUM{ stp| svp| merci| c'est revenu| ça recommence|}",
        "{le problème est revenu|ça recommence|c'est reparti|toujours pas réglé|ça ne marche "
        "toujours pas|c'est encore cassé}{,| :|} {rouvre|rouvrez|réouvre} {le ticket|la "
        "demande|le} NUM",
        "{le problème du|le souci du|la panne du} {ticket|} NUM {est revenu|est revenue|"
        "recommence}",
        "{rouvrir|réouvrir|rouvre} {un ticket|une demande|mon ticket|ma demande|un ticket "
        "fermé}{ stp| svp|}",
    ],
    "en": [
        "{reopen|re-open|please reopen|can you reopen|could you reopen|i want to reopen|"
        "open again|reactivate} {ticket|the ticket|my ticket|request|my request|issue|"
        "incident|case|} NUM{ please| pls| it's back| it broke again|}",
        "{it's broken again|the problem is back|still not fixed|it happened again}{,| -|} "
        "{reopen|please reopen} {ticket|request|} NUM",
        "{ticket|request|issue} NUM {was closed too early|is broken again|needs reopening}",
        "{reopen|i want to reopen} {a ticket|my ticket|a closed ticket}{ please|}",
    ],
}
GENERATED = {"fr": 140, "en": 100}


def examples() -> dict[str, list[str]]:
    """Hand-written examples, then generated ones (with typing noise)."""
    generated = generate(TEMPLATES, GENERATED, seed="reopen", slots={"NUM": TICKET_NUMBER_FORMS})
    return combine(examples_from_csv(EXAMPLES), generated)


@hookimpl
def register_intents(register):
    register(
        Intent(
            name="reopen_ticket",
            description={
                "fr": "rouvrir un ticket fermé ou résolu (après confirmation)",
                "en": "reopen a closed or resolved ticket (after confirmation)",
            },
            examples=examples(),
            handler=reopen,
            expects=("ticket_id", "ticket_ids"),
        )
    )
