"""The console's lifecycle intents (comment, close, reopen) and the read scopes, against a
real API with keys of each role. The lines are ours, written for these tests; the
independent sets measure understanding (tests/nlu/test_independent_sets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ticketbot.api.keys import open_key_store
from ticketbot.api.settings import Settings
from ticketbot.client import ApiClient
from ticketbot.dialogue import Turn
from ticketbot.testing import running_api

from .test_shell import Console


class Desk:
    """One API with an admin, an agent and two requesters, each with a console."""

    def __init__(self, admin: ApiClient, directory: Path) -> None:
        self.directory = directory
        self.admin = admin
        keys = {}
        settings = Settings(database_url=f"sqlite:///{directory / 'tickets.db'}")
        with open_key_store(settings) as store:
            for name, role in (("alice", "agent"), ("rita", "requester"), ("remy", "requester")):
                _, keys[name] = store.create(name, role)
        self.apis = {name: ApiClient(admin.base_url, api_key=key) for name, key in keys.items()}
        self.apis["admin"] = admin

    def console(self, who: str) -> Console:
        return Console(self.apis[who], self.directory / f"history-{who}")

    def ticket(self, who: str, title: str = "Mon écran reste noir") -> dict:
        return self.apis[who].create_ticket(title)


@pytest.fixture
def desk(tmp_path):
    with running_api(tmp_path) as admin:
        yield Desk(admin, tmp_path)


def test_a_requester_closes_its_ticket_after_a_yes(desk):
    ticket = desk.ticket("rita")
    output = desk.console("rita").send(
        f"c'est réglé, tu peux fermer le ticket {ticket['id']}", "oui"
    )
    assert f"Ticket n°{ticket['id']} fermé" in output
    assert desk.admin.get_ticket(ticket["id"])["status"] == "closed"
    events = desk.admin.list_events(ticket["id"])["items"]
    assert [(e["field"], e["from"], e["to"], e["by"]) for e in events[1:]] == [
        ("status", "open", "closed", "rita")
    ]


def test_close_keeps_the_ticket_on_a_no(desk):
    ticket = desk.ticket("rita")
    output = desk.console("rita").send(f"ferme le ticket {ticket['id']}", "non")
    assert "reste ouvert" in output
    assert desk.admin.get_ticket(ticket["id"])["status"] == "open"


def test_close_asks_for_the_number_and_says_when_already_closed(desk):
    ticket = desk.ticket("rita")
    console = desk.console("rita")
    output = console.send("je veux fermer un ticket", str(ticket["id"]), "oui")
    assert f"Ticket n°{ticket['id']} fermé" in output
    output = console.send(f"ferme le ticket {ticket['id']}")
    assert "déjà fermé" in output and f"rouvre le ticket {ticket['id']}" in output


def test_an_agent_saying_resolved_marks_it_resolved(desk):
    ticket = desk.ticket("rita")
    output = desk.console("alice").send(f"marque le ticket {ticket['id']} comme résolu", "oui")
    assert "résolu" in output
    assert desk.admin.get_ticket(ticket["id"])["status"] == "resolved"


def test_someone_elses_ticket_cannot_be_closed_by_a_requester(desk):
    ticket = desk.ticket("remy")
    output = desk.console("rita").send(f"ferme le ticket {ticket['id']}")
    assert "n'existe pas" in output and "rien n'a été fermé" in output
    assert desk.admin.get_ticket(ticket["id"])["status"] == "open"


def test_reopen_a_closed_ticket_and_refuse_an_open_one(desk):
    ticket = desk.ticket("rita")
    desk.admin.update_ticket(ticket["id"], {"status": "closed"})
    console = desk.console("rita")
    output = console.send(f"le problème est revenu, rouvre le ticket {ticket['id']}", "oui")
    assert f"Ticket n°{ticket['id']} rouvert" in output
    assert desk.admin.get_ticket(ticket["id"])["status"] == "open"
    output = console.send(f"rouvre le ticket {ticket['id']}")
    assert "n'est pas fermé" in output and "ouvert" in output


def test_reopen_in_english(desk):
    ticket = desk.ticket("rita", "Printer jammed")
    desk.admin.update_ticket(ticket["id"], {"status": "resolved"})
    output = desk.console("rita").send(f"please reopen ticket {ticket['id']}", "yes please")
    assert f"Ticket #{ticket['id']} reopened" in output


def test_a_change_made_in_between_is_not_overwritten(desk, monkeypatch):
    """The console reads the ticket, asks, and patches with If-Match: an agent's change in
    the meantime wins, and the user is told."""
    ticket = desk.ticket("rita")
    console = desk.console("rita")
    original = Turn.confirm

    def confirm_after_an_agent_moved_it(self, fr, en):
        desk.apis["alice"].update_ticket(ticket["id"], {"priority": "high"})
        return original(self, fr, en)

    monkeypatch.setattr(Turn, "confirm", confirm_after_an_agent_moved_it)
    output = console.send(f"ferme le ticket {ticket['id']}", "oui")
    assert "modifié par quelqu'un d'autre" in output
    after = desk.admin.get_ticket(ticket["id"])
    assert (after["status"], after["priority"]) == ("open", "high")


def test_comment_with_the_text_in_the_line(desk):
    ticket = desk.ticket("rita")
    output = desk.console("rita").send(
        f"ajoute un commentaire au ticket {ticket['id']} : c'est revenu ce matin"
    )
    assert "Commentaire ajouté" in output
    comments = desk.admin.list_comments(ticket["id"])["items"]
    assert [(c["body"], c["author"], c["internal"]) for c in comments] == [
        ("C'est revenu ce matin", "rita", False)
    ]


@pytest.mark.parametrize(
    ("line", "body"),
    [
        ("dis sur le ticket {n} que je serai absent lundi", "Je serai absent lundi"),
        ("reply to ticket {n} saying the new keyboard arrived", "The new keyboard arrived"),
        ("commente le {n} - le bureau est le 214", "Le bureau est le 214"),
        ("précise sur la demande {n} que la réunion est à 14:30", "La réunion est à 14:30"),
        # No colon nor "que": the text around the ticket's reference (typed SMS style).
        ("rajoute au {n} il faut 2 câbles hdmi", "Il faut 2 câbles hdmi"),
        ("2 écrans de plus touchés, ajoute au {n}", "2 écrans de plus touchés"),
        ("ticket {n} le pc de la salle 204 fait pareil", "Le pc de la salle 204 fait pareil"),
        ("ps ticket {n} 3 other people have the same issue", "3 other people have the same issue"),
        (
            "the dock in room 4 is dead too, put that on ticket {n}",
            "The dock in room 4 is dead too",
        ),
    ],
)
def test_comment_text_after_que_saying_or_a_dash(desk, line, body):
    ticket = desk.ticket("rita")
    desk.console("rita").send(line.format(n=ticket["id"]))
    assert [c["body"] for c in desk.admin.list_comments(ticket["id"])["items"]] == [body]


def test_comment_asks_for_the_number_then_the_text(desk):
    ticket = desk.ticket("rita")
    output = desk.console("rita").send(
        "je voudrais ajouter un commentaire", str(ticket["id"]), "Le technicien peut passer"
    )
    assert "Commentaire ajouté" in output
    assert [c["body"] for c in desk.admin.list_comments(ticket["id"])["items"]] == [
        "Le technicien peut passer"
    ]


@pytest.mark.parametrize(
    ("line", "body"),
    [
        ("jai oublie de dire ca plante 3x par jour", "Ca plante 3x par jour"),
        ("rajout 1 detail mon bureau a bougé", "1 detail mon bureau a bougé"),
        ("ajoute une précision mon poste est le 4412", "Mon poste est le 4412"),
        ("update still broken after 3 reboots", "Still broken after 3 reboots"),
    ],
)
def test_a_comment_that_names_no_ticket_is_added_once_the_number_is_given(desk, line, body):
    """The line already says what to add: once it has the number, the bot does not ask it
    again (no third line is typed), and takes none of the line's own numbers for the ticket."""
    ticket = desk.ticket("rita")
    desk.console("rita").send(line, str(ticket["id"]))
    assert [c["body"] for c in desk.admin.list_comments(ticket["id"])["items"]] == [body]


def test_comment_cancelled_at_the_text_adds_nothing(desk):
    ticket = desk.ticket("rita")
    output = desk.console("rita").send(f"commenter le ticket {ticket['id']}", "laisse tomber")
    assert "aucun commentaire n'a été ajouté" in output
    assert desk.admin.list_comments(ticket["id"])["total"] == 0


def test_internal_notes_are_for_agents_only(desk):
    ticket = desk.ticket("rita")
    line = f"ajoute une note interne au ticket {ticket['id']} : rappeler le fournisseur"
    output = desk.console("rita").send(line)
    assert "Seuls les agents" in output
    assert desk.admin.list_comments(ticket["id"])["total"] == 0
    output = desk.console("alice").send(line)
    assert "Note interne ajoutée" in output
    comments = desk.admin.list_comments(ticket["id"])["items"]
    assert [(c["internal"], c["author"]) for c in comments] == [(True, "alice")]
    assert desk.apis["rita"].list_comments(ticket["id"])["total"] == 0


def test_one_ticket_shows_status_priority_assignee_and_last_public_comment(desk):
    ticket = desk.ticket("rita")
    desk.apis["alice"].update_ticket(
        ticket["id"], {"status": "in_progress", "priority": "high", "assignee": "alice"}
    )
    desk.apis["alice"].add_comment(ticket["id"], "Je passe à 15 h")
    desk.apis["alice"].add_comment(ticket["id"], "Note pour l'équipe", internal=True)
    output = desk.console("rita").send(f"où en est le ticket {ticket['id']} ?")
    for shown in ("en cours", "haute", "alice", "Je passe à 15 h"):
        assert shown in output
    assert "Note pour l'équipe" not in output


def test_my_tickets_and_tickets_assigned_to_me(desk):
    desk.ticket("admin", "Mise à jour du serveur de fichiers")
    hers = desk.ticket("rita", "Souris cassée")
    desk.admin.update_ticket(hers["id"], {"assignee": desk.admin.whoami()["name"]})
    desk.ticket("remy", "Contrat fournisseur à relire")
    console = desk.console("admin")
    output = console.send("montre mes tickets")
    assert "Mise à jour du serveur" in output and "Souris cassée" not in output
    output = console.send("les tickets qui me sont assignés")
    assert "Souris cassée" in output and "Mise à jour du serveur" not in output
    output = console.send("show tickets assigned to me")
    assert "Souris cassée" in output and "Contrat fournisseur" not in output
    output = console.send("tickets non assignés")
    assert "Contrat fournisseur" in output and "Souris cassée" not in output


def test_a_requester_asking_for_assigned_tickets_gets_an_explanation_and_its_own(desk):
    desk.ticket("rita", "Souris cassée")
    output = desk.console("rita").send("mes tickets assignés")
    assert "assignés aux agents" in output and "Souris cassée" in output


@pytest.mark.parametrize(
    "line", ["ferme la fenêtre s'il te plaît", "comment ça va ?", "close spotify"]
)
def test_near_misses_change_nothing(desk, line):
    ticket = desk.ticket("rita")
    desk.console("rita").send(line)
    after = desk.admin.get_ticket(ticket["id"])
    assert after["status"] == "open"
    assert desk.admin.list_comments(ticket["id"])["total"] == 0
