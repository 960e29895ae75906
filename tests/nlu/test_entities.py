"""Built-in entity extractors."""

from __future__ import annotations

import pytest

from ticketbot.plugins.comment_ticket import body_in, request_in
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
        # Letters glued to a number make a code or a unit, but for a polite word
        ("a rajouter a ma demande le toner ref 26A est vide", None),
        ("ticket 12b du fournisseur", None),
        ("#3x par jour", None),
        ("ticket 45stp", 45),
        ("ref 26 svp", 26),
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
        # An hour after a bare "à", a number after "after" or "before".
        ("le souci revient chaque matin à 8", None),
        ("ferme stp le 310 le tech est passé à 9", 310),
        ("issue gone after 1 reboot pls close it", None),
        # Only one number is a ticket's when the others are counts, times or things' numbers.
        ("ferme le 87 le technicien a remplacé les 3 claviers", 87),
        ("rouvre le 64 ça a relâché 3 jours après", 64),
        ("reouvrir n 19 le lecteur de badge porte 6 est mort", 19),
        ("supprime le 4 et le 9", None),
        ("g 2 pts a voir", None),
        ("the laptop came back at 9 so close my request", None),  # a time
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
        # "demande" is a verb before a counted noun ("je demande 2 écrans"), not before these.
        ("où en est ma demande 27 depuis lundi", 27),
        ("clôture ma demande 88 plus de souci", 88),
        ("ticket 902 more info the fan is loud", 902),
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
        # Without a colon or "que": what surrounds the ticket's reference, request words aside.
        ("rajoute au 68 il faut 2 câbles", "Il faut 2 câbles"),
        ("slt pr le 240 le livreur passe jeudi 14", "Le livreur passe jeudi 14"),
        ("2 écrans de plus touchés, ajoute au 133", "2 écrans de plus touchés"),
        ("ajoute un commentaire au ticket 12 le wifi coupe", "Le wifi coupe"),
        ("add 2 #1200 its the hp 4250", "Its the hp 4250"),  # "2": "to"
        ("rajoute ke ca coupe tt les 2 min, c pr le 77", "Ca coupe tt les 2 min"),
        ("add that the dock is a 90w one its for 233", "The dock is a 90w one"),
        ("commenter le ticket 4", ""),
        ("commente le 12 stp", ""),
        ("je voudrais ajouter au 45", ""),
        ("ajoute une précision mon poste est le 4412", ""),  # no ticket named: asked for
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


@pytest.mark.parametrize(
    ("text", "ticket"),
    [
        # Without a colon or "que": a number in the request's opening, or right after a
        # request to add, is the ticket's; the comment's own numbers are not.
        ("slt pr le 240 le technicien passe jeudi 14 vers 10h", 240),
        ("le 61 toujours pareil ce matin 3 mails bloqués", 61),
        ("complement 233 le code erreur affiche 503", 233),
        ("g 3 infos a rajouter au 77 le scanner bip 2 fois", 77),
        ("le poste 2210 a le même souci, a rajouter au 47", 47),
        ("the screen on desk 12 flickers again, add it to 318", 318),
        ("2 écrans de plus touchés, ajoute au 133", 133),
        ("the dock in room 4 is dead too, put that on ticket 58", 58),
        ("3 people more have it add that to #90", 90),
        # After "que": the ticket said last ("c'est pour le", "it's for", "ticket N").
        ("rajoute ke le wifi saute tt les 10 min c pr le 41", 41),
        ("add that the dock is a 90w one, its for 233", 233),
        ("ajoute que c urgent g une réunion à 15h ticket 462", 462),
        ("rajoute ke le code c 500", None),  # "c 500": "c'est 500", the code's value
        ("ajoute que je suis dispo pour le 12", None),  # a date as often as a ticket
        # No ticket named: the bot asks which one.
        ("ajoute une précision mon poste est le 4412", None),
        ("jai 2 trucs a rajouter a mon ticket le wifi et la vpn", None),
        ("3 personnes de plus ont le pb, ajoute le a mon ticket", None),
        ("5 min après le démarrage ça fige, a rajouter a mon ticket", None),
        ("g 2 precisions pr ma demande d'hier", None),
        ("mets un com g redémarré 5 fois", None),
        # A digit right after the request's words is a count; an hour follows a bare "à".
        ("rajout 1 detail mon bureau a bougé", None),
        ("ajoute stp 2 pb de plus", None),
        ("add 1 thing the screen flickers", None),
        ("rajoute 2 a ma demande", None),
        ("maj a 9 ca refonctionnait", None),
        ("rajoute au 9 ca refonctionnait", 9),
        ("update 3905 vpn drops every 5 min", 3905),
        ("maj 12 toujours pas réglé", 12),
        # "more" after a number goes on with a count; a thing named after its number.
        ("re my ticket 2 more people cant log in", None),
        ("ticket 1500 more info printer shows code 79", 1500),
        ("maj #71 plus que 1 ecran en panne", 71),
        # A ticket's number right before a count of things stays the ticket's.
        ("ps ticket 84 3 autres personnes touchées au 2e", 84),
        ("ps ticket 1 3 other people have the same issue", 1),
        # A count, or "en plus", may open the request before the ticket's number.
        ("1 truc de plus pr le 39 le clavier aussi", 39),
        ("1 more thing for 139 the keyboard too", 139),
        ("en plus sur le 402 salle 12 pareil", 402),
        ("info 4471 cest mon poste", None),
        ("ajoute 4471 mon poste", None),
        ("maj 0800 ca plante", None),
    ],
)
def test_where_a_comment_without_a_colon_names_its_ticket(text, ticket):
    named = request_in(text)
    assert (ticket_id(named) or only_number(named)) == ticket, named


@pytest.mark.parametrize(
    ("text", "ticket"),
    [
        # A list asked for: its plain numbers are counts.
        ("montre mes tickets ouverts, j'en ai 3 normalement", None),
        ("I have 2 open requests, can I see them?", None),
        ("which tickets are still open for me? should be 5", None),
        # A ticket named: its number stays.
        ("où en est mon ticket 12 ?", 12),
        ("status of 45", 45),
        ("show tickets 3 and 4", None),  # several: the bot says which it takes
    ],
)
def test_a_list_asked_for_names_no_ticket_by_its_counts(built_in, text, ticket):
    parsed = built_in.parse(text)
    assert parsed.intent == "read_ticket"
    assert parsed.entities.get("ticket_id") == ticket


def test_entities_from_must_be_a_function():
    from ticketbot.intents import Intent, InvalidIntent

    examples = {"fr": ["a", "b", "c", "d", "e"], "en": ["a", "b", "c", "d", "e"]}
    intent = Intent("send_note", {"fr": "x", "en": "x"}, examples, print, entities_from="body")
    with pytest.raises(InvalidIntent, match="entities_from must be a function"):
        intent.validate()
