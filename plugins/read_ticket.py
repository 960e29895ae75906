"""Built-in intent ``read_ticket``: one ticket's details, or a table of tickets."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from ticketbot import hookimpl
from ticketbot.dialogue import Turn
from ticketbot.intents import Intent, examples_from_csv
from ticketbot.ml.text import strip_accents
from ticketbot.nlu.variants import combine, generate
from ticketbot.plugins.entities import TICKET_NUMBER_FORMS, names_a_ticket_number
from ticketbot.plugins.lifecycle import STAFF, STATUS, priority_word, role, status_word

EXAMPLES = Path(__file__).resolve().parent / "data" / "read_ticket.csv"
RECENT = 10


# Tickets in the plural: a list is asked for ("mes tickets", "my open requests").
_PLURAL_TICKETS = re.compile(
    r"\b(?:tickets|tikets|demandes|requetes|requests|incidents|issues|dossiers)\b", re.I
)


def named_in(text: str) -> str:
    """The part of a line its ticket number is read from: all of it, but for a list asked
    for, whose numbers not marked as a ticket's ("ticket 12", "#12") are counts ("montre
    mes tickets ouverts, j'en ai 3", "I have 2 open requests, can I see them?")."""
    if _PLURAL_TICKETS.search(strip_accents(text)) and not names_a_ticket_number(text):
        return re.sub(r"\d+", " ", text)
    return text


def when(item: dict[str, Any], field: str = "created_at") -> str:
    """A time of a ticket or a comment (its creation by default), short and in UTC."""
    try:
        return datetime.fromisoformat(item[field]).strftime("%Y-%m-%d %H:%M UTC")
    except (KeyError, ValueError):
        return str(item.get(field, ""))


def show_ticket(
    turn: Turn, ticket: dict[str, Any], last_comment: dict[str, Any] | None = None
) -> None:
    """The details of one ticket, as a two-column table; with the newest public comment when
    given."""
    rows = [
        (turn.t("Titre", "Title"), ticket["title"]),
        (turn.t("Statut", "Status"), status_word(turn, ticket["status"])),
        (turn.t("Priorité", "Priority"), priority_word(turn, ticket.get("priority", "normal"))),
        (turn.t("Service", "Department"), ticket["department"]),
        (turn.t("Confiance", "Confidence"), turn.percent(ticket["confidence"])),
        (turn.t("Assigné à", "Assignee"), ticket.get("assignee") or turn.t("personne", "nobody")),
        (turn.t("Créé le", "Created"), when(ticket)),
    ]
    if ticket.get("updated_at") and ticket.get("updated_at") != ticket.get("created_at"):
        rows.append((turn.t("Modifié le", "Updated"), when(ticket, "updated_at")))
    if ticket.get("description"):
        rows.append((turn.t("Description", "Description"), ticket["description"]))
    if last_comment:
        rows.append(
            (
                turn.t("Dernier commentaire", "Last comment"),
                f"{last_comment['author']}, {when(last_comment)} : {last_comment['body']}"
                if turn.language == "fr"
                else f"{last_comment['author']}, {when(last_comment)}: {last_comment['body']}",
            )
        )
    turn.table(
        (f"Ticket n°{ticket['id']}", f"Ticket #{ticket['id']}"),
        [("Champ", "Field"), ("Valeur", "Value")],
        rows,
    )


def read(turn: Turn) -> None:
    """Show the ticket named in the line (with its newest public comment), or a list: the
    caller's tickets, those assigned to the caller, unassigned ones, of a department, of a
    status."""
    ticket_id = turn.entities.get("ticket_id")
    if ticket_id is not None:
        ticket = turn.api.get_ticket(ticket_id)
        show_ticket(turn, ticket, turn.api.last_public_comment(ticket_id))
        return
    department = turn.entities.get("department")
    status = turn.entities.get("status")
    scope = turn.entities.get("scope")
    filters: dict[str, Any] = {"department": department, "status": status}
    if scope == "assigned" and role(turn) not in STAFF:
        turn.say(
            fr="Les tickets sont assignés aux agents du support, pas aux demandeurs ; voici "
            "les vôtres.",
            en="Tickets are assigned to support agents, not to requesters; here are yours.",
        )
        scope = "mine"
    if scope == "assigned":
        filters["assignee"] = "me"
    elif scope == "unassigned":
        filters["assignee"] = "none"
    elif scope == "mine":
        filters["created_by"] = "me"
    page = turn.api.list_tickets(limit=RECENT, **filters)
    what_fr, what_en = _list_name(scope, department, status)
    if not page["items"]:
        turn.say(
            fr=f"Aucun ticket à afficher ({what_fr[:1].lower()}{what_fr[1:]}).",
            en=f"No tickets to show ({what_en[:1].lower()}{what_en[1:]}).",
        )
        return
    shown, total = len(page["items"]), page["total"]
    turn.table(
        (
            f"{what_fr} ({shown} sur {total})",
            f"{what_en} ({shown} of {total})",
        ),
        [
            ("N°", "#"),
            ("Titre", "Title"),
            ("Service", "Department"),
            ("Statut", "Status"),
            ("Créé le", "Created"),
        ],
        [
            (t["id"], t["title"], t["department"], status_word(turn, t["status"]), when(t))
            for t in page["items"]
        ],
    )


def _list_name(scope: str | None, department: str | None, status: str | None) -> tuple[str, str]:
    """What a list holds, in both languages ("Vos tickets, service IT, ouverts")."""
    fr = {
        "assigned": "Tickets qui vous sont assignés",
        "unassigned": "Tickets non assignés",
        "mine": "Vos tickets",
    }.get(scope or "", "Derniers tickets")
    en = {
        "assigned": "Tickets assigned to you",
        "unassigned": "Unassigned tickets",
        "mine": "Your tickets",
    }.get(scope or "", "Latest tickets")
    if department:
        fr, en = f"{fr}, service {department}", f"{en}, {department}"
    if status:
        fr, en = f"{fr}, {STATUS[status][0]}s", f"{en}, {STATUS[status][1]}"
    return fr, en


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
                "fr": "consulter un ticket par son numéro, ou lister des tickets (les vôtres, "
                "ceux qui vous sont assignés, par service)",
                "en": "show a ticket by its number, or list tickets (yours, assigned to you, "
                "by department)",
            },
            examples=examples(),
            handler=read,
            expects=("ticket_id", "scope", "status"),
            entities_from=named_in,
        )
    )
