"""ticketbot-stats: answers "how many tickets per department?" with a table of counts.

It uses only the public ticket API (through ``turn.api``), never the database.
"""

from ticketbot import hookimpl
from ticketbot.intents import Intent

EXAMPLES = {
    "fr": [
        "combien de tickets par service ?",
        "nombre de tickets par département",
        "statistiques des tickets",
        "répartition des tickets par service",
        "combien de tickets au total ?",
        "combien de tickets pour les RH ?",
        "quel service a le plus de tickets ?",
        "stats des tickets stp",
        "donne-moi le décompte des tickets par équipe",
        "combien y a-t-il de tickets en informatique",
        "le volume de tickets de chaque service",
        "on en est à combien de tickets ?",
        "tableau de bord des tickets",
        "comptage des demandes par service",
        "ça fait combien de tickets juridique ?",
    ],
    "en": [
        "how many tickets per department?",
        "ticket statistics",
        "ticket count by department",
        "how many tickets are there in total?",
        "how many HR tickets do we have",
        "which department has the most tickets?",
        "stats on tickets please",
        "breakdown of tickets by team",
        "number of tickets for each department",
        "give me the ticket numbers per service",
        "how busy is each department",
        "ticket volume per department",
        "count the finance tickets",
        "dashboard of ticket counts",
        "how many legal requests so far?",
    ],
}


def count_per_department(api):
    """``[(department, number of tickets)]`` for every department the API routes to."""
    departments = api.health()["model"]["labels"]
    return [(name, api.list_tickets(department=name, limit=1)["total"]) for name in departments]


def answer(turn):
    """Show the number of tickets per department (only the one named, if any)."""
    counts = count_per_department(turn.api)
    department = turn.entities.get("department")
    if department:
        counts = [(name, number) for name, number in counts if name == department]
    rows = [(name, number) for name, number in counts]
    rows.append(("Total", sum(number for _, number in counts)))
    turn.table(
        ("Tickets par service", "Tickets per department"),
        [("Service", "Department"), ("Tickets", "Tickets")],
        rows,
    )


@hookimpl
def register_intents(register):
    register(
        Intent(
            name="ticket_stats",
            description={
                "fr": "compter les tickets par service",
                "en": "count the tickets per department",
            },
            examples=EXAMPLES,
            handler=answer,
        )
    )
