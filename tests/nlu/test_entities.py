"""Built-in entity extractors."""

from __future__ import annotations

import pytest

from ticketbot.plugins.comment_ticket import body_in
from ticketbot.plugins.entities import (
    department,
    only_number,
    scope,
    several_ticket_numbers,
    status_filter,
    ticket_id,
    with_digits,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("supprime le ticket 123", 123),
        ("show ticket 42", 42),
        ("#17", 17),
        ("statut du ticket #1587", 1587),
        ("la demande n°305 ?", 305),
        ("voir le ticket n° 64", 64),
        ("ou en est ma demande numero 7", 7),
        ("consulter le ticket numéro 4410", 4410),
        ("can you pull up request 566?", 566),
        ("l'incident 88213", 88213),
        ("ticket number 12", 12),
        ("TICKET 9", 9),
        ("mon écran 24 pouces clignote", None),
        ("j'ai 3 problèmes", None),
        ("meeting room 3 is cold", None),
        ("ticket 0", None),
        ("", None),
        ("tiket 8", 8),
        ("suprime le tiket 38", 38),
        ("can u delet tiket 6 plz", 6),
        ("issue 73", 73),
        ("la demande 45", 45),
        ("ticket no 12", 12),
        ("ticket7", 7),
        ("ticekt 44", 44),
        ("n° 12", 12),
        ("numéro 12", None),  # anything's number, unless a ticket is expected
        ("qui est le numéro 5 du classement ?", None),
        ("#120", 120),
        ("la facture n°4587 est bloquée", None),
        ("la salle #3 est froide", None),
        ("bureau n°214 sans chauffage", None),
        ("je demande 2 jours de congé", None),
        ("I request 2 monitors", None),
        ("mon numéro est 0612345678", None),
        ("erreur #E42 au démarrage", None),
        ("the tissue 5 dispenser is empty", None),
    ],
)
def test_ticket_id(text, expected):
    assert ticket_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("supprime le 1 stp", 1),
        ("numéro 12", 12),
        ("le 2", 2),
        ("2", 2),
        ("show 9", 9),
        ("supprime le 2.", 2),
        ("delete 12 please", 12),
        ("les 5 derniers tickets", None),
        ("montre 10 tickets", None),
        ("le 12 mars", None),
        ("3e étage", None),
        ("14h", None),
        ("tickets du 12/03", None),
        ("supprime le 1 et le 2", None),
        ("ticket de la salle 214", None),
        ("45 euros", None),
        ("06 12 34 56 78", None),
        ("the one from 3 days ago", None),
        ("0", None),
        # The thing a number belongs to may sit a few linking words before it.
        ("précise que mon bureau c'est le 118", None),
        ("note that my extension is 3301", None),
        ("mon badge numéro 70213 ne marche plus", None),
        # Counts of people and things, and a number right before another.
        ("ajoute que ça touche 4 utilisateurs", None),
        ("add that 3 ppl have it", None),
        ("add it went down 3 20 times", None),
        # Amounts, days, models, phones, times and counts typed quickly.
        ("add to my request the cost was $45", None),
        ("ajoute ke ca coute 45€", None),
        ("add a note im out fri 12 so come thu", None),
        ("rajoute ke je suis la jeudi 14", None),
        ("note the model is dell latitude 5420", None),
        ("ajoute ke c une canon mf 443", None),
        ("mets ke mon num c 0612345678", None),
        ("ajoute ke je pars vers 17", None),
        ("add that it froze for 5 mins", None),
        ("ajoute ke g fait 3 essais", None),
        ("rajoute au 45 ke ca bloque", 45),
        ("rajoute dans 1234 ke ca bloque", 1234),
    ],
)
def test_the_only_number_of_a_line_that_expects_a_ticket(text, expected):
    assert only_number(text) == expected


def test_a_bare_number_is_a_ticket_only_for_intents_that_expect_one():
    from ticketbot.plugin_manager import get_plugin_manager

    extractors = get_plugin_manager().entity_extractors
    assert extractors.extract("supprime le 14 stp", expected=("ticket_id",)) == {"ticket_id": 14}
    assert "ticket_id" not in extractors.extract("la salle 14 est froide")
    assert "ticket_id" not in extractors.extract("supprime le 14 stp")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("liste les tickets RH", "HR"),
        ("show me open IT tickets", "IT"),
        ("tickets it", "IT"),
        ("tickets du service informatique", "IT"),
        ("human resources tickets", "HR"),
        ("les tickets des ressources humaines", "HR"),
        ("tickets de la compta", "Finance"),
        ("finance tickets", "Finance"),
        ("services généraux", "Facilities"),
        ("facilities requests", "Facilities"),
        ("tickets juridique", "Legal"),
        ("legal team tickets", "Legal"),
        ("delete it", None),
        ("is it broken", None),
        ("liste les tickets", None),
    ],
)
def test_department(text, expected):
    assert department(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("montre le ticket douze", 12),
        ("supprime le ticket numéro quinze", 15),
        ("ticket number twenty-one", 21),
        ("la demande dix-sept", 17),
        ("rouvre le ticket quatre-vingt-dix-neuf", 99),
        ("clôture du ticket cent-vingt", 120),
        ("réouverture du ticket deux cent trois", 203),
        ("ticket soixante et onze", 71),
        ("ticket one hundred and five", 105),
        ("close ticket one", 1),
        ("rouvre la demande une", 1),
        ("ouvre un ticket", None),
        ("supprime un ticket", None),
    ],
)
def test_numbers_written_in_words(text, expected):
    assert ticket_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("un ticket et deux écrans", "un ticket et 2 écrans"),  # "un" alone is an article
        ("tickets un et deux", "tickets 1 et 2"),  # but not after "tickets"
        ("trois et quatre", "3 et 4"),  # two numbers, not seven
        ("deux trois", "2 3"),
        ("quatre-vingts", "80"),
        ("mille deux cent", "1200"),
        ("twenty five", "25"),
    ],
)
def test_number_words_make_one_number_only_when_they_can(text, expected):
    assert with_digits(text) == expected


@pytest.mark.parametrize(
    "text",
    ["close issue 12 on the GitHub repo", "rouvre la PR 45", "ferme le ticket Jira 88", "MR 7"],
)
def test_another_trackers_numbers_are_not_tickets(text):
    assert ticket_id(text) is None and only_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # One ticket named, other numbers around it: the ticket's is the one.
        ("note sur le ticket 31 le copieur Canon 5535 est en panne", 31),
        ("add to ticket 31 the tech can use desk 12 at 3", 31),
        ("ajoute ds le tkt 64 que c au 2e", 64),  # "tkt": ticket, typed short
        ("pr le ticket 52 rajoute que ça refait", 52),  # SMS "pr": "pour", not a pull request
        ("ferme la demande 40 j'ai trouvé", 40),  # "j'ai" after it is no unit ("3 j")
    ],
)
def test_the_ticket_among_other_numbers(text, expected):
    assert ticket_id(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("montre mes tickets", "mine"),
        ("show my requests", "mine"),
        ("les tickets que j'ai créés", "mine"),
        ("montre-moi les tickets", None),
        ("les tickets qui me sont assignés", "assigned"),
        ("mes tickets assignés", "assigned"),
        ("tickets assigned to me", "assigned"),
        ("what's on my plate", "assigned"),
        ("tickets non assignés", "unassigned"),
        ("unassigned tickets", "unassigned"),
        ("liste les tickets IT", None),
    ],
)
def test_list_scope(text, expected):
    assert scope(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("les tickets ouverts", "open"),
        ("show open tickets", "open"),
        ("mes demandes résolues", "resolved"),
        ("closed requests", "closed"),
        ("open ticket 4", None),
        ("tickets ouverts ou fermés", None),
    ],
)
def test_status_of_a_list(text, expected):
    assert status_filter(text) == expected


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("ajoute au ticket 7 : c'est revenu ce matin", "C'est revenu ce matin"),
        ("dis sur le 3 que je serai absent lundi", "Je serai absent lundi"),
        ("reply to #4 saying the printer works", "The printer works"),
        ("note sur le 12 : rendez-vous à 14:30", "Rendez-vous à 14:30"),
        ("commenter le ticket 4", ""),
        ("commentaire sur le ticket : 12", ""),
        # "est-ce que" opens a question: the comment comes after the colon.
        ("est-ce que tu peux noter sur le 9 : l'imprimante remarche", "L'imprimante remarche"),
        ("Est-ce qu'on peut dire au ticket 5 que c'est réglé", "C'est réglé"),
        ("dis o ticket 8 ke jsuis la a 14h", "Jsuis la a 14h"),  # SMS "ke": "que"
        ("comment on that ticket", ""),
    ],
)
def test_comment_body(text, body):
    assert body_in(text)[1] == body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("supprime les tickets 13 et 14", [13, 14]),
        ("#3, #4", [3, 4]),
        ("supprime le 12", None),
        ("tickets du 12/03 et du 14/03", None),
        ("supprime le 3 et le 4", [3, 4]),
        ("close ticket 21 or the 22", [21, 22]),
        # Once a number is a ticket's, other numbers count only when listed with it.
        ("note sur le ticket 31 le copieur Canon 5535 est en panne", None),
        ("add to ticket 31 the tech can use desk 12 at 3", None),
    ],
)
def test_several_ticket_numbers(text, expected):
    assert several_ticket_numbers(text) == expected


@pytest.fixture(scope="module")
def built_in():
    from tests.support import built_in_parser

    return built_in_parser()[1]


@pytest.mark.parametrize(
    ("text", "ticket"),
    [
        # The comment's own numbers are not the ticket: the parser reads the request only.
        ("ajoute un commentaire : la salle 214 est froide", None),
        ("add a note: the office is 214", None),
        ("commente le 12 : le bureau est le 214", 12),
        ("dis sur le ticket 3 que la facture 4471 est payée", 3),
    ],
)
def test_a_comment_names_its_ticket_in_the_request_only(built_in, text, ticket):
    parsed = built_in.parse(text)
    assert parsed.intent == "comment_ticket"
    assert parsed.entities.get("ticket_id") == ticket


def test_entities_from_must_be_a_function():
    from ticketbot.intents import Intent, InvalidIntent

    examples = {"fr": ["a", "b", "c", "d", "e"], "en": ["a", "b", "c", "d", "e"]}
    intent = Intent("send_note", {"fr": "x", "en": "x"}, examples, print, entities_from="body")
    with pytest.raises(InvalidIntent, match="entities_from must be a function"):
        intent.validate()
