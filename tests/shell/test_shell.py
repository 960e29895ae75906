"""The cmd2 shell driven with onecmd_plus_hooks against a real in-process API."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from ticketbot.bot import Bot
from ticketbot.client import ApiClient
from ticketbot.nlu.loader import resolve_intent_model
from ticketbot.nlu.parser import Parser
from ticketbot.plugin_manager import get_plugin_manager
from ticketbot.shell import TicketShell


class Console:
    """A shell with captured output and scripted answers to its questions."""

    def __init__(self, api: ApiClient, history: Path) -> None:
        plugins = get_plugin_manager()
        parser = Parser.for_plugins(resolve_intent_model(plugins.intents).model, plugins)
        self.stdin = io.StringIO()
        self.stdout = io.StringIO()
        self.api = api
        self.app = TicketShell(
            lambda channel: Bot(plugins, api, channel, parser),
            history_file=history,
            stdin=self.stdin,
            stdout=self.stdout,
        )

    def send(self, line: str, *answers: str) -> str:
        self.stdin.seek(0)
        self.stdin.truncate()
        self.stdin.write("".join(f"{a}\n" for a in answers))
        self.stdin.seek(0)
        start = len(self.stdout.getvalue())
        stop = self.app.onecmd_plus_hooks(line)
        assert stop is False
        return self.stdout.getvalue()[start:]


@pytest.fixture
def console(live_api, tmp_path) -> Console:
    return Console(live_api, tmp_path / "history")


def created_id(output: str) -> int:
    match = re.search(r"Ticket (?:n°|#)(\d+) (?:créé|created)", output)
    assert match, output
    return int(match.group(1))


def test_create_with_the_problem_in_the_line(console):
    output = console.send("nouveau ticket : mon écran ne s'allume plus")
    ticket = console.api.get_ticket(created_id(output))
    assert ticket["title"] == "Mon écran ne s'allume plus"
    assert ticket["department"] == "IT"
    assert "service IT" in output and "confiance" in output


def test_create_asks_for_the_description_when_missing(console):
    output = console.send("je voudrais ouvrir un ticket", "le chauffage ne marche plus au 3e étage")
    ticket = console.api.get_ticket(created_id(output))
    assert ticket["title"] == "Le chauffage ne marche plus au 3e étage"


def test_create_can_be_cancelled(console):
    output = console.send("je voudrais ouvrir un ticket", "annuler")
    assert "aucun ticket n'a été créé" in output
    assert console.api.list_tickets()["total"] == 0


def test_english_line_gets_english_answers(console):
    output = console.send("create a ticket for the broken printer on floor 2")
    assert "created" in output and "routed to" in output


def test_read_one_ticket_and_the_list(console):
    first = console.api.create_ticket("Imprimante bloquée", "bac 2")
    console.api.create_ticket("Relire le contrat fournisseur Dupont")
    one = console.send(f"montre le ticket {first['id']}")
    assert "Imprimante bloquée" in one and "bac 2" in one and "Service" in one
    listing = console.send("liste les tickets")
    assert "Imprimante bloquée" in listing and "Relire le contrat" in listing
    assert "(2 sur 2)" in listing
    legal = console.send("montre les tickets du service juridique")
    assert "Relire le contrat" in legal and "Imprimante" not in legal
    english = console.send(f"show ticket {first['id']}")
    assert "Department" in english


def test_read_unknown_ticket(console):
    assert "Je ne trouve pas le ticket n°999" in console.send("montre le ticket 999")


def test_delete_needs_an_explicit_yes(console):
    ticket = console.api.create_ticket("Badge cassé")
    for answer in ("non", "surtout pas", "", "wait no", "laisse tomber"):
        output = console.send(f"supprime le ticket {ticket['id']}", answer)
        assert "(oui/non)" not in output or "est conservé" in output
        assert console.api.get_ticket(ticket["id"])["id"] == ticket["id"]
    output = console.send(f"supprime le ticket {ticket['id']}", "OUI")
    assert "Badge cassé" in output and f"Ticket n°{ticket['id']} supprimé" in output
    assert console.api.list_tickets()["total"] == 0


@pytest.mark.parametrize(
    "yes", ["oui", "o", "yes", "y", " Yes ", "ouais", "oui vas-y", "yes please", "go ahead"]
)
def test_every_yes_word_confirms(console, yes):
    ticket = console.api.create_ticket("Souris HS")
    console.send(f"delete ticket {ticket['id']}", yes)
    assert console.api.list_tickets()["total"] == 0


def test_delete_asks_for_the_id_when_missing(console):
    ticket = console.api.create_ticket("Chaise cassée")
    output = console.send("je veux supprimer un ticket", f"le {ticket['id']}", "oui")
    assert f"Ticket n°{ticket['id']} supprimé" in output


def test_delete_unknown_id(console):
    output = console.send("supprime le ticket 4242", "oui")
    assert "n'existe pas" in output and "rien n'a été supprimé" in output


def test_fallback_never_acts(console):
    output = console.send("quel temps fait-il demain à Lyon ?")
    assert "Je n'ai pas compris" in output and "montre le ticket 42" in output
    assert console.api.list_tickets()["total"] == 0


@pytest.mark.parametrize(
    "line",
    [
        "nouveau ticket : l'imprimante affiche | rm -rf x > y",
        "nouveau ticket : erreur ; a & b < c dans le script",
        "nouveau ticket : \"quote' non fermée \\ et antislash",
        "nouveau ticket : le script export.sh > sortie.txt plante, erreur #E42",
    ],
)
def test_shell_syntax_is_chat_text(console, tmp_path, monkeypatch, line):
    monkeypatch.chdir(tmp_path)
    output = console.send(line)
    ticket = console.api.get_ticket(created_id(output))
    assert ticket["title"] == line.split(" : ", 1)[1][0].upper() + line.split(" : ", 1)[1][1:]
    assert not (tmp_path / "y").exists() and not (tmp_path / "sortie.txt").exists()


def test_line_starting_with_hash_is_not_dropped(console):
    ticket = console.api.create_ticket("Écran noir")
    assert "Écran noir" in console.send(f"#{ticket['id']} montre")


@pytest.mark.parametrize(
    "command",
    [
        "shell ls",
        "py print(1)",
        "run_pyscript x.py",
        "run_script x.txt",
        "edit x",
        "alias create x y",
        "macro create x y",
        "set debug true",
        "history",
        "shortcuts",
    ],
)
def test_power_user_commands_do_not_exist(console, command):
    output = console.send(command)
    assert "Je n'ai pas compris" in output or "I didn't understand" in output or "Ticket" in output
    assert command.split()[0] not in console.app.get_all_commands()


def test_help_lists_intents_in_the_users_language(console):
    french = console.send("aide")
    assert (
        "Je comprends" in french
        and "créer un ticket" in french
        and "« montre le ticket 42 »" in french
    )
    console.send("show ticket 1")
    english = console.send("help")
    assert "I understand" in english and "delete a ticket" in english
    assert "create_ticket" in console.send("help create_ticket")


def test_help_followed_by_text_is_a_chat_message(console):
    output = console.send("help me, my laptop won't start")
    assert created_id(output)


def test_api_unreachable_keeps_the_shell_running(tmp_path):
    from tests.support import free_port

    console = Console(ApiClient(f"http://127.0.0.1:{free_port()}", timeout=2), tmp_path / "h")
    output = console.send("nouveau ticket : le wifi ne marche plus")
    assert "ne répond pas" in output and "rien n'a été modifié" in output
    assert "Je comprends" in console.send("help")  # still running, and still in French


def test_plugins_command(console):
    output = console.send("plugins")
    assert "create_ticket" in output and "built-in" in output


def test_history_persists_between_sessions(live_api, tmp_path):
    history = tmp_path / "history"
    first = Console(live_api, history)
    first.send("liste les tickets | grep x")
    first.app._persist_history()
    second = Console(live_api, history)
    assert "liste les tickets | grep x" in [item.raw for item in second.app.history]


def test_quit(console):
    assert console.app.onecmd_plus_hooks("quitter") is True


def test_quit_typed_at_a_question_quits_and_abandons_the_action(console):
    ticket = console.api.create_ticket("Badge cassé")
    console.stdin.seek(0)
    console.stdin.truncate()
    console.stdin.write("quitter\n")
    console.stdin.seek(0)
    assert console.app.onecmd_plus_hooks(f"supprime le ticket {ticket['id']}") is True
    assert "Au revoir" in console.stdout.getvalue()
    assert console.api.get_ticket(ticket["id"])["id"] == ticket["id"]


@pytest.mark.parametrize("line", ["annuler", "cancel", "laisse tomber"])
def test_cancel_with_nothing_pending_says_so(console, line):
    output = console.send(line)
    assert "rien à annuler" in output or "nothing to cancel" in output
    assert "Quel ticket" not in output and "Which ticket" not in output


@pytest.mark.parametrize("answer", ["annule", "laisse tomber, annule", "never mind", "oublie"])
def test_cancel_at_the_description_question_creates_nothing(console, answer):
    output = console.send("je veux créer un ticket", answer)
    assert "aucun ticket n'a été créé" in output or "no ticket was created" in output
    assert console.api.list_tickets()["total"] == 0


def test_cancel_at_the_number_question_deletes_nothing(console):
    ticket = console.api.create_ticket("Chaise cassée")
    output = console.send("je veux supprimer un ticket", "laisse tomber")
    assert "rien n'a été supprimé" in output
    assert console.api.get_ticket(ticket["id"])


def test_a_description_that_is_only_a_command_gets_the_question_again(console):
    output = console.send("je veux créer un ticket", "creer ticket", "mon écran reste noir")
    assert console.api.get_ticket(created_id(output))["title"] == "Mon écran reste noir"
    assert console.api.list_tickets()["total"] == 1


def test_an_unclear_confirmation_is_asked_again_and_only_a_yes_deletes(console):
    kept = console.api.create_ticket("Souris HS")
    output = console.send(f"supprime le ticket {kept['id']}", "hmm", "je sais pas")
    assert output.count("répondez « oui » ou « non »") == 1 and "est conservé" in output
    assert console.api.get_ticket(kept["id"])
    output = console.send(f"supprime le ticket {kept['id']}", "euh", "oui vas-y")
    assert f"Ticket n°{kept['id']} supprimé" in output


def test_a_bare_number_names_the_ticket_to_delete(console):
    ticket = console.api.create_ticket("Écran cassé")
    output = console.send(f"supprime le {ticket['id']} stp", "ouais")
    assert f"Ticket n°{ticket['id']} supprimé" in output


@pytest.mark.parametrize(("line", "reply"), [("bonjour", "Bonjour !"), ("merci", "Avec plaisir")])
def test_greetings_and_thanks_get_a_short_answer(console, line, reply):
    output = console.send(line)
    assert reply in output and "pas compris" not in output and "Je peux" not in output


def test_help_and_lines_without_language_signal_follow_the_conversation(console):
    console.send("liste les tickets")
    assert "Je comprends" in console.send("help")
    assert "Aucun ticket" in console.send("tickets")  # no language signal: still French
    console.send("show my tickets")
    assert "I understand" in console.send("help")
    assert "Je comprends" in console.send("aide")  # a French word answers in French
    assert "Goodbye" in _quit_output(console)


def _quit_output(console) -> str:
    start = len(console.stdout.getvalue())
    assert console.app.onecmd_plus_hooks("quit") is True
    return console.stdout.getvalue()[start:]


def test_several_numbers_to_delete_are_taken_one_at_a_time(console):
    first = console.api.create_ticket("Écran cassé")
    second = console.api.create_ticket("Clavier cassé")
    output = console.send(f"supprime les tickets {first['id']} et {second['id']}", "annule")
    assert "un ticket à la fois" in output.lower() and "rien n'a été supprimé" in output
    assert console.api.list_tickets()["total"] == 2


def test_test_is_not_a_description(console):
    output = console.send("nouveau ticket", "test", "mon imprimante bourre")
    assert console.api.get_ticket(created_id(output))["title"] == "Mon imprimante bourre"


def test_escape_sequences_from_the_database_never_reach_the_terminal(console, tmp_path):
    import sqlite3

    ticket = console.api.create_ticket("Écran noir", "desc")
    # The API refuses control characters; a shared database written by something else may not.
    with sqlite3.connect(tmp_path / "tickets.db") as db:
        db.execute(
            "UPDATE ticket SET title = ?, description = ? WHERE id = ?",
            ("Écran \x1b]0;pwned\x07noir \x1b[2J\u202eevil", "\x1b[31mrouge\x1b[0m", ticket["id"]),
        )
    output = console.send(f"montre le ticket {ticket['id']}") + console.send("liste les tickets")
    assert "\x1b]0;" not in output and "\x1b[2J" not in output and "\u202e" not in output
    assert "\x1b[31m" not in output and "rouge" in output and "\\u202eevil" in output


class _Exiting:
    from ticketbot import hookimpl

    @hookimpl
    def register_intents(self, register):
        from ticketbot.intents import Intent

        def handler(turn):
            raise SystemExit(3)

        register(
            Intent(
                name="exit_now",
                description={"fr": "quitter brutalement", "en": "exit abruptly"},
                examples={
                    "fr": [f"plugin qui sort numéro {i}" for i in range(12)],
                    "en": [f"plugin that exits number {i}" for i in range(12)],
                },
                handler=handler,
            )
        )


def test_a_plugin_raising_system_exit_does_not_end_the_bot(live_api):
    from ticketbot.testing import ScriptedChannel, make_turn, plugins_with

    plugins = plugins_with(_Exiting())
    bot = Bot(plugins, live_api, ScriptedChannel(), lambda: None)
    turn = make_turn(
        "plugin qui sort", "exit_now", api=live_api, channel=bot.channel, plugins=plugins
    )
    bot._parser = type("P", (), {"parse": lambda self, text, language="fr": turn.parse})()
    bot.handle("plugin qui sort")
    assert "a rencontré une erreur" in bot.channel.transcript and not bot.ended
