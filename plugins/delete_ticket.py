"""Built-in intent ``delete_ticket``: delete a ticket, only after an explicit yes."""

from __future__ import annotations

from pathlib import Path

from plugins.read_ticket import show_ticket
from ticketbot import hookimpl
from ticketbot.client import TicketNotFound
from ticketbot.dialogue import Turn, is_cancel
from ticketbot.intents import Intent, examples_from_csv

EXAMPLES = Path(__file__).resolve().parent / "data" / "delete_ticket.csv"


def delete(turn: Turn) -> None:
    """Ask for the number if missing, show the ticket, delete it only on oui/o/yes/y."""
    ticket_id = turn.entities.get("ticket_id")
    if ticket_id is None:
        answer = turn.ask(
            fr="Quel ticket voulez-vous supprimer ? Donnez son numéro (ou « annuler ») :",
            en="Which ticket do you want to delete? Give its number (or 'cancel'):",
        )
        if is_cancel(answer):
            turn.say(fr="D'accord, rien n'a été supprimé.", en="OK, nothing was deleted.")
            return
        ticket_id = turn.ticket_id_in(answer)
        if ticket_id is None:
            turn.say(
                fr="Je n'ai pas trouvé de numéro de ticket dans votre réponse ; "
                "rien n'a été supprimé.",
                en="I found no ticket number in your answer; nothing was deleted.",
            )
            return
    try:
        ticket = turn.api.get_ticket(ticket_id)
    except TicketNotFound:
        turn.say(
            fr=f"Le ticket n°{ticket_id} n'existe pas (ou plus) ; rien n'a été supprimé.",
            en=f"Ticket #{ticket_id} does not exist (or no longer); nothing was deleted.",
        )
        return
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


@hookimpl
def register_intents(register):
    register(
        Intent(
            name="delete_ticket",
            description={
                "fr": "supprimer un ticket (après confirmation)",
                "en": "delete a ticket (after confirmation)",
            },
            examples=examples_from_csv(EXAMPLES),
            handler=delete,
        )
    )
