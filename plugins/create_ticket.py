"""Built-in intent ``create_ticket``: open a ticket from what the user describes.

A line either carries the problem ("mon écran clignote", "Bonjour, pouvez-vous ouvrir un
ticket ? La clim du 3e fuit. Merci") or only asks for a ticket ("nouveau ticket", "jveux
faire un tiket"); then the bot asks for the problem. The ticket's title is the problem
itself, without the greeting, the request for a ticket or the thanks around it; the
description keeps everything the user wrote.
"""

from __future__ import annotations

import re
from pathlib import Path

from ticketbot import hookimpl
from ticketbot.dialogue import Turn
from ticketbot.intents import Intent, examples_from_csv
from ticketbot.ml.text import strip_accents
from ticketbot.nlu.variants import combine, generate, sample, with_noise, wrap
from ticketbot.paths import example_tickets

EXAMPLES = Path(__file__).resolve().parent / "data" / "create_ticket.csv"
TITLE_MAX = 200
TITLE_SOFT_MAX = 120
"""Longer first sentences are cut at a clause boundary: a title is read in a list."""
ASKS = 3
"""How many times the bot asks for the problem before giving up."""

# Words that only greet, ask for a ticket, or thank; a line made only of these carries no
# problem. Typos of the longer ones count too (see _is_request_word).
_REQUEST_WORDS = frozenset(
    """
    a ai aimerais aide aider an avoir besoin bonjour bonsoir bjr slt salut coucou hello hi hey
    c ca cree creer creez create creation d de declarer demande demandes des dois du en est et
    faire fais faudrait faut file for help i il incident incidents issue j je l la le les
    like log me merci moi mon my need new nouveau nouvel nouvelle nouvo open ouvre ouvrez
    ouvrir ouverture pb please pls plz pour pourriez pouvez probleme problem problems raise
    report request requete s signale signaler signalement souci souhaite souhaiterais
    soumettre soumets stp svp t te the ticket tickets to tu un une veux voudrais vous want
    would y you can could get make have got some quelque chose something support helpdesk
    team equipe all everyone there madame monsieur thanks thank thx cordialement regards
    enregistrer enregistre lancer lance poser pose deposer depose submit lodge raise start
    put in case wanna gonna lemme let g jveux jvoudrais jsuis chui suis am is are it une
    reclamation requetes tiket tikets asap urgent vite svp svp rapidement quickly again
    encore un autre another one plait sil vais va peux peut possible merci beaucoup m n qu
    px pe pourrais pourriez pouvais test tests testing essai ok okay rien nothing
    rh hr it informatique info dsi compta comptabilite finance finances juridique legal
    facilities generaux services service department departement
    """.split()
)
_REQUEST_STEMS = ("ticket", "demande", "request", "incident", "requete", "reclamation")
_GREETING_OR_THANKS = re.compile(
    r"^\W*(?:bonjour|bonsoir|salut|coucou|hello|hi|hey|dear|cher|chere|madame|monsieur"
    r"|merci|thanks|thank you|thx|cordialement|regards|best|cheers|bonne journee"
    r"|bonne soiree|have a nice day)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# "nouveau ticket : <problem>", "ticket - <problem>", "create a ticket for <problem>"...
_PREFIX = re.compile(
    r"^.{0,60}?\b(?:ticket|tiket|demande|incident|request|issue|requete)s?\b\s*"
    r"(?:[:\-–]\s*|(?:pour|concernant|car|parce que|because|about|for|regarding|on|sur)\s+"
    r"(?:(?:le|la|les|un|une|the|a|an)\s+|l['’])?)",
    re.IGNORECASE,
)
# "je voudrais signaler que <problem>", "I'd like to report that <problem>".
_REPORT_PREFIX = re.compile(
    r"^(?:je (?:voudrais|veux|souhaite|dois|tiens a) |j'aimerais |i(?:'d| would) like to "
    r"|i want to |i need to )?(?:signaler|vous signaler|informer|vous informer|report|let you "
    r"know|tell you)\s+(?:que |qu'|that )",
    re.IGNORECASE,
)
# "Pourriez-vous relire le contrat" -> "Relire le contrat"; "alors voilà, ..." -> "...".
_LEADING_FILLER = re.compile(
    r"^(?:(?:pourriez|pouvez|pourrais|peux|peut)[\s-]*(?:vous|tu|on)\s+(?:svp\s+|stp\s+)?"
    r"|(?:could|can|would|will)\s+(?:you|u|someone)\s+(?:please\s+|pls\s+)?"
    r"|(?:please|pls|plz|svp|stp|merci de|merci d')\s*"
    r"|(?:bonjour|bonsoir|bjr|salut|slt|coucou|hello|hi|hey)\b[\s,!]*"
    r"|(?:alors voila|alors voilà|voila|voilà|alors|en fait|ben|bah|bon|donc|euh|so|well"
    r"|basically|ok so)\b[\s,]*)+",
    re.IGNORECASE,
)
_TRAILING_POLITENESS = re.compile(
    r"[\s,;:.!-]*(?:\b(?:stp|svp|s'il (?:te|vous) pla[iî]t|merci(?: d'avance| beaucoup)?"
    r"|please|pls|plz|thanks|thank you|thx|asap)\b[\s,;:.!-]*)+$",
    re.IGNORECASE,
)
# A sentence or a comma-separated clause, with the punctuation that ends it.
_SEGMENT = re.compile(r"[^.!?;,\n]+[.!?;,\n]*|[.!?;,\n]+")


def _is_request_word(word: str) -> bool:
    if word in _REQUEST_WORDS:
        return True
    if word.startswith("j") and word[1:] in _REQUEST_WORDS:  # "jveux", "jai"
        return True
    return len(word) >= 5 and any(_close(word, stem) for stem in _REQUEST_STEMS)


def _close(word: str, stem: str) -> bool:
    """One letter added, dropped or changed ("tickt", "ticcket", "demmande")."""
    if abs(len(word) - len(stem)) > 1:
        return False
    if len(word) == len(stem):
        return sum(a != b for a, b in zip(word, stem, strict=True)) <= 1
    short, long = sorted((word, stem), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _content_words(text: str) -> list[str]:
    """The words of ``text`` that are not greeting, ticket request or thanks."""
    words = _WORD.findall(strip_accents(text.casefold()))
    return [w for w in words if not _is_request_word(w)]


def problem_in(text: str, answer: bool = False) -> str | None:
    """The problem the line describes, or None if it only asks for a ticket.

    Words besides greetings, requests for a ticket, politeness and department names make the
    problem: two in a first line ("nouveau ticket pour le wifi" names only a topic, and
    the bot asks for the problem), one in the answer to "describe your problem" (``answer``:
    "wifi").
    """
    before, colon, after = text.partition(":")
    if colon and after.strip() and not _content_words(before):
        return after.strip()
    return text.strip() if len(_content_words(text)) >= (1 if answer else 2) else None


def _is_wrapper(segment: str) -> bool:
    """A clause that only greets, asks for a ticket or thanks ("Bonjour,", "could you
    please open a ticket?", "Merci d'avance.")."""
    return not _content_words(segment) or bool(
        _GREETING_OR_THANKS.match(strip_accents(segment)) and len(_content_words(segment)) <= 2
    )


def title_of(problem: str) -> str:
    """The problem itself, on one line: no greeting, no request for a ticket, no thanks.

    "Bonjour, pouvez-vous ouvrir un ticket ? Mon deuxième écran clignote. Merci" gives
    "Mon deuxième écran clignote".
    """
    segments = _SEGMENT.findall(problem)
    while len(segments) > 1 and _is_wrapper(segments[0]):
        segments.pop(0)
    while len(segments) > 1 and _is_wrapper(segments[-1]):
        segments.pop()
    rest = " ".join("".join(segments).split())
    sentence = re.split(r"(?<=[.!?])\s+", rest, maxsplit=1)[0]
    sentence = _PREFIX.sub("", sentence, count=1).strip() or sentence
    sentence = _LEADING_FILLER.sub("", sentence, count=1).strip() or sentence
    sentence = _REPORT_PREFIX.sub("", sentence, count=1).strip() or sentence
    sentence = _TRAILING_POLITENESS.sub("", sentence).strip() or sentence
    sentence = sentence.rstrip(" ,;:.!-–") or sentence
    if not _content_words(sentence):
        sentence = " ".join(problem.split())
    return _shortened(sentence[0].upper() + sentence[1:])


def _shortened(title: str) -> str:
    """A title of at most :data:`TITLE_SOFT_MAX` characters, cut after a clause if it can."""
    if len(title) <= TITLE_SOFT_MAX:
        return title
    head = title[: TITLE_SOFT_MAX + 1]
    for boundary in (", ", "; ", " - ", " – "):
        cut = head.rfind(boundary)
        if cut >= 30:
            return title[:cut]
    return head[:TITLE_SOFT_MAX].rsplit(" ", 1)[0] + "…"


def title_and_description(problem: str) -> tuple[str, str]:
    """A one-line title (at most 200 characters) and the full text as description (empty
    when it says no more than the title)."""
    title = title_of(problem)
    full = problem.strip()
    description = full if " ".join(full.split()).casefold() != title.casefold() else ""
    return title, description


def create(turn: Turn) -> None:
    """Create the ticket the user describes, asking for the problem if the line lacks it."""
    problem = problem_in(turn.text)
    for attempt in range(ASKS):
        if problem is not None:
            break
        answer = turn.ask(
            fr="Décrivez votre problème ou votre demande en une phrase (ou « annuler ») :"
            if attempt == 0
            else "Il me faut le problème lui-même, par exemple « mon écran reste noir » "
            "(ou « annuler ») :",
            en="Describe your problem or request in one sentence (or 'cancel'):"
            if attempt == 0
            else "I need the problem itself, for example 'my screen stays black' (or 'cancel'):",
        )
        if answer is None:
            turn.say(fr="D'accord, aucun ticket n'a été créé.", en="OK, no ticket was created.")
            return
        problem = problem_in(answer, answer=True)
    if problem is None:
        turn.say(
            fr="Je n'ai toujours pas de description ; aucun ticket n'a été créé.",
            en="I still have no description; no ticket was created.",
        )
        return
    title, description = title_and_description(problem)
    ticket = turn.api.create_ticket(title, description)
    turn.say(
        fr=f"Ticket n°{ticket['id']} créé : « {ticket['title']} », affecté au service "
        f"{ticket['department']} (confiance {turn.percent(ticket['confidence'])}).",
        en=f'Ticket #{ticket["id"]} created: "{ticket["title"]}", routed to '
        f"{ticket['department']} (confidence {turn.percent(ticket['confidence'])}).",
    )
    if ticket.get("needs_review"):
        turn.say(
            fr="Le service choisi est incertain : un agent vérifiera l'affectation.",
            en="The department is uncertain: an agent will check the routing.",
        )


# The bare request, in every combination of greeting, verb, object and politeness.
BARE_REQUESTS = {
    "fr": [
        "{bonjour |bonjour, |salut |slt |bjr |}{je {veux|voudrais|souhaite|souhaiterais|dois} "
        "|j'aimerais |j'ai besoin d'|il faut |faut que je puisse |peux-tu |pouvez-vous |tu peux |"
        "vous pouvez |merci d'|}{créer|ouvrir|faire|déclarer|signaler|soumettre|enregistrer|"
        "lancer|poser} {un ticket|une demande|un incident|une requête|une réclamation|un "
        "nouveau ticket|une nouvelle demande|un problème}{ stp| svp| s'il vous plaît| merci|}",
        "{crée|créer|ouvre|ouvrir|fais|faire|créez|ouvrez|déclare|enregistre} {moi |}{un "
        "ticket|une demande|un incident|un nouveau ticket|une requête}{ stp| svp| merci| "
        "please|}{ !|}",
        "{nouveau ticket|nouvelle demande|nouvel incident|un ticket|ticket|création de "
        "ticket|création d'un ticket|ouverture de ticket|ouverture d'un ticket|une "
        "demande}{ stp| svp| please| merci|}",
    ],
    "en": [
        "{hi |hello |hey |hi, |}{i {want|need|would like|'d like} to |i wanna |can you |could "
        "you |can i |please |let me |help me |}{create|open|log|raise|file|submit|start|make|"
        "put in|report|lodge} {a ticket|a request|an incident|a new ticket|a support ticket|"
        "a case|an issue|a problem}{ please| pls| plz| thanks|}",
        "{new ticket|new request|new incident|ticket please|a ticket|open ticket|create "
        "ticket|ticket creation|new support ticket|open a ticket|create a ticket}{ please| "
        "pls| thanks|}{ !|}",
    ],
}
BARE = {"fr": 500, "en": 350}
# A problem inside a request for a ticket: "nouveau ticket : <problem>", "Bonjour, pouvez-vous
# ouvrir un ticket ? <problem> Merci".
WRAPPERS = {
    "fr": [
        "nouveau ticket : PROBLEM",
        "ticket : PROBLEM",
        "nouvelle demande : PROBLEM",
        "Bonjour, pouvez-vous ouvrir un ticket ? PROBLEM",
        "bonjour, PROBLEM",
        "PROBLEM, merci",
        "PROBLEM. Merci d'avance",
        "je voudrais ouvrir un ticket : PROBLEM",
        "crée un ticket stp, PROBLEM",
        "salut, PROBLEM, tu peux ouvrir un ticket ?",
        "j'ai un souci : PROBLEM",
        "signaler : PROBLEM",
    ],
    "en": [
        "new ticket: PROBLEM",
        "ticket: PROBLEM",
        "Hello, could you please open a ticket? PROBLEM",
        "hi, PROBLEM",
        "PROBLEM, thanks",
        "PROBLEM. Thanks in advance",
        "please open a ticket: PROBLEM",
        "I'd like to report a problem: PROBLEM",
        "can you log a ticket, PROBLEM",
        "issue: PROBLEM",
    ],
}
WRAPPED = {"fr": 400, "en": 300}


def wrapped(tickets: dict[str, list[str]]) -> dict[str, list[str]]:
    """Some example tickets inside a greeting, a request for a ticket or thanks."""
    return {
        language: wrap(
            [t.rstrip(" .!") for t in sample(texts, WRAPPED[language], seed=f"wrap-{language}")],
            WRAPPERS[language],
            slot="PROBLEM",
            seed=language,
        )
        for language, texts in tickets.items()
    }


TICKETS = {"fr": 1500, "en": 1000}
NOISY_TICKETS = 0.3
"""How many of the example tickets that ship with ticketbot are taken as examples. More
make create_ticket absorb the few examples of a plugin's intent (measured on the Wikit
intents in BENCHMARKS.md), without understanding descriptions better."""


def examples() -> dict[str, list[str]]:
    """Hand-written examples, generated bare requests (with typing noise), and example
    tickets that ship with ticketbot, some of them wrapped in a request: a description of a
    problem is a request for a ticket."""
    tickets = {
        language: sample(texts, TICKETS[language], seed=f"tickets-{language}")
        for language, texts in examples_from_csv(example_tickets()).items()
    }
    # Typed the way people type too ("jarrive pa a imprimer"): chat-style spelling must not
    # read as off-topic.
    tickets = {
        language: with_noise(texts, NOISY_TICKETS, seed=f"tickets-{language}")
        for language, texts in tickets.items()
    }
    return combine(
        examples_from_csv(EXAMPLES),
        generate(BARE_REQUESTS, BARE, seed="create"),
        tickets,
        wrapped(tickets),
    )


@hookimpl
def register_intents(register):
    register(
        Intent(
            name="create_ticket",
            description={
                "fr": "créer un ticket à partir de la description d'un problème ou d'une demande",
                "en": "create a ticket from the description of a problem or request",
            },
            examples=examples(),
            handler=create,
        )
    )
