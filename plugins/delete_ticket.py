"""Built-in intent ``delete_ticket``: delete a ticket, only after an explicit yes."""

from __future__ import annotations

from pathlib import Path

from ticketbot import hookimpl
from ticketbot.client import TicketNotFound
from ticketbot.dialogue import Turn
from ticketbot.intents import Intent, examples_from_csv
from ticketbot.nlu.variants import combine, generate
from ticketbot.plugins.entities import TICKET_NUMBER_FORMS
from ticketbot.plugins.read_ticket import show_ticket

EXAMPLES = Path(__file__).resolve().parent / "data" / "delete_ticket.csv"
NOTHING_DONE = ("rien n'a été supprimé", "nothing was deleted")


def delete(turn: Turn) -> None:
    """Ask for the number if missing, show the ticket, delete it only after a clear yes."""
    found = turn.which_ticket(("supprimer", "delete"), NOTHING_DONE)
    if found is None:
        return
    ticket, _ = found
    ticket_id = ticket["id"]
    show_ticket(turn, ticket)
    if not turn.confirm(
        fr=f"Supprimer définitivement le ticket n°{ticket_id} ? (oui/non)",
        en=f"Delete ticket #{ticket_id} for good? (yes/no)",
    ):
        turn.say(
            fr=f"D'accord, le ticket n°{ticket_id} est conservé.",
            en=f"OK, ticket #{ticket_id} is kept.",
        )
        return
    try:
        turn.api.delete_ticket(ticket_id)
    except TicketNotFound:
        turn.say(
            fr=f"Le ticket n°{ticket_id} a déjà été supprimé entre-temps.",
            en=f"Ticket #{ticket_id} was already deleted in the meantime.",
        )
        return
    turn.say(fr=f"Ticket n°{ticket_id} supprimé.", en=f"Ticket #{ticket_id} deleted.")


# NUM: a ticket number in one of its written forms.
TEMPLATES = {
    "fr": [
        "{supprime|supprimer|efface|effacer|retire|annule|annuler|vire|enlève|supprimez|"
        "effacez|peux-tu supprimer|tu peux supprimer|je veux supprimer|je voudrais supprimer|"
        "merci de supprimer|je souhaite annuler} {le ticket|la demande|l'incident|le|ma "
        "demande|mon ticket|la requête|ticket|demande} NUM{ stp| svp| merci| s'il te plaît|}",
        "{supprime|efface|retire|annule|vire|je veux supprimer|je voudrais annuler|peux-tu "
        "effacer} {un ticket|une demande|mon ticket|ma demande|mon dernier ticket|ma dernière "
        "demande|ce ticket|mes tickets}{ stp| svp|}",
        "{suppression|annulation} {du ticket|de la demande|de ma demande} NUM",
    ],
    "en": [
        "{delete|remove|cancel|drop|get rid of|erase|withdraw|please delete|can you delete|i "
        "want to delete|i'd like to remove|could you cancel} {ticket|the ticket|my ticket|"
        "request|my request|issue|incident|} NUM{ please| pls| plz| thanks|}",
        "{delete|remove|cancel|get rid of|withdraw|i want to delete|i need to cancel} {a "
        "ticket|my ticket|my request|my last ticket|this ticket|my tickets|one of my "
        "tickets}{ please| pls|}",
    ],
}
GENERATED = {"fr": 200, "en": 150}


def examples() -> dict[str, list[str]]:
    """Hand-written examples, then generated ones (with typing noise)."""
    generated = generate(TEMPLATES, GENERATED, seed="delete", slots={"NUM": TICKET_NUMBER_FORMS})
    return combine(examples_from_csv(EXAMPLES), generated)


@hookimpl
def register_intents(register):
    register(
        Intent(
            name="delete_ticket",
            description={
                "fr": "supprimer un ticket (après confirmation)",
                "en": "delete a ticket (after confirmation)",
            },
            examples=examples(),
            handler=delete,
            expects=("ticket_id", "ticket_ids"),
        )
    )
