"""Built-in small talk, and the titles the create_ticket plugin gives tickets."""

from __future__ import annotations

import pytest

from ticketbot.plugins.create_ticket import problem_in, title_and_description
from ticketbot.plugins.small_talk import small_talk_kind
from ticketbot.testing import ScriptedChannel, make_turn, plugins_with


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("bonjour", "greeting"),
        ("Bonjour !", "greeting"),
        ("hello there", "greeting"),
        ("salut à toi", "greeting"),
        ("merci", "thanks"),
        ("merci beaucoup !", "thanks"),
        ("thanks a lot", "thanks"),
        ("au revoir", "goodbye"),
        ("bonne journée", "goodbye"),
        ("bye", "goodbye"),
        ("ça va ?", "how_are_you"),
        ("bonjour, comment ça va ?", "how_are_you"),
        ("how are you", "how_are_you"),
        ("que sais-tu faire ?", "capabilities"),
        ("what can you do?", "capabilities"),
        ("tu sais faire quoi", "capabilities"),
        ("aide-moi", "capabilities"),
        ("ok", "acknowledgement"),
        ("d'accord", "acknowledgement"),
        ("merci bcp", "thanks"),
        ("ok merci", "thanks"),
        ("ouais merci", "thanks"),
        ("a+", "goodbye"),
        ("merci, au revoir", "goodbye"),
        ("bonne journée à tous", "goodbye"),
        ("c'est quoi un ticket ?", "what_is_a_ticket"),
        ("what's a ticket?", "what_is_a_ticket"),
    ],
)
def test_small_talk_is_recognised(text, kind):
    assert small_talk_kind(text) == kind


@pytest.mark.parametrize(
    "text",
    ["merci, et il fait beau demain ?", "bonjour, mon écran est noir", "quel temps fait-il", ""],
)
def test_only_whole_lines_of_small_talk(text):
    assert small_talk_kind(text) is None


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("bonjour", "fr", "Bonjour !"),
        ("hello", "en", "Hello!"),
        ("merci", "fr", "Avec plaisir"),
        ("thanks", "en", "You're welcome"),
        ("que sais-tu faire ?", "fr", "Je peux"),
        ("what can you do?", "en", "I can"),
    ],
)
def test_small_talk_answers_briefly_in_the_users_language(text, language, expected, live_api):
    plugins = plugins_with()
    turn = make_turn(
        text,
        "out_of_scope",
        api=live_api,
        channel=ScriptedChannel(),
        plugins=plugins,
        language=language,
    )
    reply = plugins.manager.hook.fallback_reply(turn=turn)
    assert reply.startswith(expected) and "compris" not in reply and "understand" not in reply
    if expected in ("Je peux", "I can"):
        assert ("créer un ticket" if language == "fr" else "create a ticket") in reply
    assert len(reply) < 400


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "Hello, could you please open a ticket? My second screen flickers",
            "My second screen flickers",
        ),
        (
            "Bonjour, pouvez-vous ouvrir un ticket ? Mon deuxième écran clignote. Merci",
            "Mon deuxième écran clignote",
        ),
        ("nouveau ticket : mon écran ne s'allume plus", "Mon écran ne s'allume plus"),
        ("svp ouvre moi un ticket, ma souris ne répond plus", "Ma souris ne répond plus"),
        ("je voudrais ouvrir un ticket car l'imprimante bourre", "Imprimante bourre"),
        ("create a ticket for the broken printer on floor 2", "Broken printer on floor 2"),
        ("Le chauffage ne marche plus, merci d'avance", "Le chauffage ne marche plus"),
        (
            "Je voudrais signaler que la porte du parking est bloquée",
            "La porte du parking est bloquée",
        ),
        ("Hi team, the badge reader is down. Thanks!", "The badge reader is down"),
        ("mon écran clignote", "Mon écran clignote"),
        (
            "Bonjour, j'ai oublié mon mot de passe, pouvez vous m'ouvrir un ticket ? Merci",
            "J'ai oublié mon mot de passe",
        ),
        ("Pourriez-vous relire le contrat fournisseur ?", "Relire le contrat fournisseur ?"),
        ("ben en fait mon contrat a une erreur", "Mon contrat a une erreur"),
        ("Can you please check the VPN, it drops", "Check the VPN, it drops"),
        ("bjr jai besoin qu'on relise un contrat", "Jai besoin qu'on relise un contrat"),
    ],
)
def test_the_title_is_the_problem_and_the_description_keeps_everything(text, title):
    got_title, description = title_and_description(text)
    assert got_title == title
    assert description in ("", text)


def test_a_long_first_sentence_is_cut_after_a_clause():
    text = (
        "depuis lundi mon ordinateur portable redemarre tout seul plusieurs fois par jour et je "
        "perds mon travail, pouvez vous regarder svp c'est vraiment urgent pour le client"
    )
    title, description = title_and_description(text)
    assert len(title) <= 120 and title.startswith("Depuis lundi") and description == text


@pytest.mark.parametrize(
    "text",
    [
        "nouveau ticket",
        "crée un ticket",
        "jveux faire un tiket",
        "I want to create a ticket",
        "open a ticket please",
        "bonjour, je voudrais ouvrir une demande svp",
        "creer ticket",
    ],
)
def test_a_bare_request_carries_no_problem(text):
    assert problem_in(text) is None


def test_what_makes_a_problem():
    assert problem_in("my keyboard is broken") == "my keyboard is broken"
    assert problem_in("imprimante bloquée") == "imprimante bloquée"
    assert problem_in("nouveau ticket pour le wifi") is None  # the topic only: ask
    assert problem_in("wifi") is None
    assert problem_in("wifi", answer=True) == "wifi"
    assert problem_in("creer ticket", answer=True) is None
    assert problem_in("test", answer=True) is None
    assert problem_in("nouveau ticket RH svp") is None
