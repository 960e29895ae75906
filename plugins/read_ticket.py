"""Built-in intent ``read_ticket``: one ticket's details, or a table of recent tickets."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ticketbot import hookimpl
from ticketbot.dialogue import Turn
from ticketbot.intents import Intent, examples_from_csv
from ticketbot.nlu.variants import combine, generate
from ticketbot.plugins.entities import TICKET_NUMBER_FORMS

EXAMPLES = Path(__file__).resolve().parent / "data" / "read_ticket.csv"
RECENT = 10


def when(ticket: dict[str, Any]) -> str:
    """The creation time of a ticket, short and in UTC."""
    try:
        return datetime.fromisoformat(ticket["created_at"]).strftime("%Y-%m-%d %H:%M UTC")
    except (KeyError, ValueError):
        return str(ticket.get("created_at", ""))


def show_ticket(turn: Turn, ticket: dict[str, Any]) -> None:
    """The details of one ticket, as a two-column table."""
    rows = [
        (turn.t("Titre", "Title"), ticket["title"]),
        (turn.t("Service", "Department"), ticket["department"]),
        (turn.t("Confiance", "Confidence"), turn.percent(ticket["confidence"])),
        (turn.t("Statut", "Status"), ticket["status"]),
        (turn.t("Créé le", "Created"), when(ticket)),
    ]
    if ticket.get("description"):
        rows.append((turn.t("Description", "Description"), ticket["description"]))
    turn.table(
        (f"Ticket n°{ticket['id']}", f"Ticket #{ticket['id']}"),
        [("Champ", "Field"), ("Valeur", "Value")],
        rows,
    )


def read(turn: Turn) -> None:
    """Show the ticket named in the line, or the recent tickets (of a department if named)."""
    ticket_id = turn.entities.get("ticket_id")
    if ticket_id is not None:
        show_ticket(turn, turn.api.get_ticket(ticket_id))
        return
    department = turn.entities.get("department")
    page = turn.api.list_tickets(department=department, limit=RECENT)
    if not page["items"]:
        turn.say(
            fr=f"Aucun ticket{f' pour le service {department}' if department else ''} "
            "pour le moment.",
            en=f"No tickets{f' for {department}' if department else ''} yet.",
        )
        return
    shown, total = len(page["items"]), page["total"]
    scope_fr = f" du service {department}" if department else ""
    scope_en = f" {department}" if department else ""
    turn.table(
        (
            f"Derniers tickets{scope_fr} ({shown} sur {total})",
            f"Latest{scope_en} tickets ({shown} of {total})",
        ),
        [
            ("N°", "#"),
            ("Titre", "Title"),
            ("Service", "Department"),
            ("Statut", "Status"),
            ("Créé le", "Created"),
        ],
        [(t["id"], t["title"], t["department"], t["status"], when(t)) for t in page["items"]],
    )


# One ticket (NUM: a ticket number in one of its written forms), or a list of tickets.
TEMPLATES = {
    "fr": [
        "{montre|affiche|montre-moi|affiche-moi|fais voir|je veux voir|je voudrais voir|"
        "peux-tu afficher|tu peux me montrer|donne-moi|consulter|voir|ouvre|détails du} "
        "{le ticket|la demande|l'incident|le|mon ticket|ma demande|ticket|demande} NUM{ stp| "
        "svp| merci|}",
        "{où en est|quel est le statut de|c'est quoi le statut de|des nouvelles de|ça avance "
        "pour|du nouveau sur|état de|statut} {le ticket|ma demande|la demande|mon ticket|"
        "l'incident|le|ticket} NUM{ ?|}",
        "{liste|affiche|montre|voir|montre-moi|affiche-moi|je veux voir|donne-moi|consulter|"
        "lister|afficher} {les tickets|mes tickets|tous les tickets|toutes les demandes|mes "
        "demandes|les derniers tickets|les tickets ouverts|la liste des tickets|tout|la "
        "liste|mes incidents}{ RH| informatique| IT| de la compta| juridiques| des services "
        "généraux|}{ stp| svp|}",
        "{où en sont|quel est le statut de|ça avance} {mes demandes|mes tickets|mes "
        "incidents}{ ?|}",
        # A ticket's number alone asks to see it: "n° 21", "le 23 ?".
        "{le|la|ticket|demande|incident} NUM{ ?| stp| svp|}",
    ],
    "en": [
        "{show|show me|display|open|view|get|pull up|can you show|i want to see|let me "
        "see|give me|details of} {ticket|request|issue|incident|the ticket|my ticket|my "
        "request|case|} NUM{ please| pls| thanks|}",
        "{what's the status of|status of|any news on|any update on|where is|how is|what "
        "about|what happened to} {ticket|my ticket|my request|request|issue|} NUM{ ?|}",
        "{show|list|display|show me|see|view|give me|can i see} {all tickets|my tickets|the "
        "tickets|all|everything|open tickets|recent tickets|the latest tickets|all my "
        "requests|my requests}{ for HR| for IT| for finance| for legal| for facilities|}{ "
        "please|}",
        "{what's the status of|any news on|how are} my {tickets|requests}{ ?|}",
        "{ticket|request|issue|incident|case} NUM{ ?| please|}",
    ],
}
GENERATED = {"fr": 200, "en": 150}


def examples() -> dict[str, list[str]]:
    """Hand-written examples, then generated ones (with typing noise)."""
    generated = generate(TEMPLATES, GENERATED, seed="read", slots={"NUM": TICKET_NUMBER_FORMS})
    return combine(examples_from_csv(EXAMPLES), generated)


@hookimpl
def register_intents(register):
    register(
        Intent(
            name="read_ticket",
            description={
                "fr": "consulter un ticket par son numéro, "
                "ou lister les derniers tickets (par service)",
                "en": "show a ticket by its number, or list the latest tickets (by department)",
            },
            examples=examples(),
            handler=read,
            expects=("ticket_id",),
        )
    )
