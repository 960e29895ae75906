"""Answers to the bot's questions: yes, no, cancel, quit, hesitation, or free text."""

from __future__ import annotations

import pytest

from ticketbot.nlu.answers import Reply, classify_reply, is_bare_cancel, is_cancel, is_yes

YES = [
    "oui",
    "o",
    "y",
    "yes",
    "Yes ",
    "OUI",
    "ouais",
    "ouaip",
    "oui, vas-y",
    "oui vas y",
    "vas-y",
    "d'accord",
    "dac",
    "ok",
    "okay",
    "yes please",
    "oui stp",
    "sure",
    "go ahead",
    "yep",
    "yeah",
    "bien sûr",
    "carrément",
    "absolument",
    "je confirme",
    "pas de souci",
    "no problem",
    "yes delete it",
    "ouiii",
    "Oui !",
    "oui oui",
    "of course",
    "do it",
    "supprime",
]
NO = [
    "non",
    "n",
    "no",
    "nope",
    "nan",
    "non merci",
    "no thanks",
    "surtout pas",
    "pas question",
    "wait no",
    "attends non",
    "ne le supprime pas",
    "don't",
    "oui... enfin non",
    "ok non",
    "finalement non",
    "keep it",
    "garde-le",
    "jamais",
    "NON !",
    "nooon",
]
CANCEL = [
    "annule",
    "annuler",
    "laisse tomber",
    "laisse tomber, annule",
    "oublie",
    "oublie ça",
    "never mind",
    "nevermind",
    "forget it",
    "stop",
    "cancel",
    "tant pis",
    "",
    "   ",
]
UNCLEAR = [
    "hmm",
    "euh",
    "je sais pas",
    "je ne sais pas",
    "peut-être",
    "maybe",
    "not sure",
    "euh peut-être",
    "pourquoi pas",
    "attends",
    "bof",
    "i don't know",
]
OTHER = [
    "le chauffage ne marche plus",
    "le 2",
    "2",
    "ticket 12",
    "creer ticket",
    "annule ma réservation de salle",
    "ma souris est cassée",
]


@pytest.mark.parametrize("answer", YES)
def test_yes(answer):
    assert classify_reply(answer) is Reply.YES and is_yes(answer)


@pytest.mark.parametrize("answer", NO)
def test_no_is_never_a_yes(answer):
    assert classify_reply(answer) is Reply.NO and not is_yes(answer)


@pytest.mark.parametrize("answer", CANCEL)
def test_cancel(answer):
    assert classify_reply(answer) is Reply.CANCEL and is_cancel(answer) and not is_yes(answer)


@pytest.mark.parametrize("answer", UNCLEAR)
def test_hesitation_is_neither(answer):
    assert classify_reply(answer) is Reply.UNCLEAR and not is_yes(answer)


@pytest.mark.parametrize("answer", OTHER)
def test_free_text_is_other(answer):
    assert classify_reply(answer) is Reply.OTHER and not is_cancel(answer)


@pytest.mark.parametrize("answer", ["quitter", "quit", "exit", "Quitter", "quit !"])
def test_quit_alone(answer):
    assert classify_reply(answer) is Reply.QUIT


def test_no_answer_gives_up():
    assert classify_reply(None) is Reply.CANCEL and is_cancel(None) and not is_yes(None)


@pytest.mark.parametrize("line", ["annuler", "cancel", "laisse tomber", "stop stp", "rien"])
def test_bare_cancel_at_the_prompt(line):
    assert is_bare_cancel(line)


@pytest.mark.parametrize(
    "line", ["annule ma demande", "annule ma demande 7", "cancel my ticket", "annule le ticket"]
)
def test_a_request_about_a_ticket_is_not_a_bare_cancel(line):
    assert not is_bare_cancel(line)
