"""Built-in intent ``comment_ticket``: add a comment to a ticket.

The comment is what follows a colon, or a "que" / "that" / "saying" ("ajoute au ticket 7 :
c'est revenu ce matin", "dis sur le 3 que je serai absent lundi", "reply to #4 saying the
printer works"); when the line has none, the bot asks for it. Agents and admins write an
internal note when they say so ("note interne", "internal note").
"""

from __future__ import annotations

import re
from pathlib import Path

from ticketbot import hookimpl
from ticketbot.dialogue import Turn
from ticketbot.intents import Intent, examples_from_csv
from ticketbot.ml.text import strip_accents
from ticketbot.nlu.variants import combine, generate
from ticketbot.plugins.entities import TICKET_NUMBER_FORMS, is_ticket_word
from ticketbot.plugins.lifecycle import STAFF, role

EXAMPLES = Path(__file__).resolve().parent / "data" / "comment_ticket.csv"
NOTHING_DONE = ("aucun commentaire n'a été ajouté", "no comment was added")
BODY_MAX = 10_000
_COLON = re.compile(r"\s*(?:(?<!\d)[:：]|[:：](?!\d))\s*|\s+[-–—]\s+")
_CONNECTIVE = re.compile(
    r"\b(?:pour (?:dire|signaler|preciser|indiquer) (?:que |qu')|en (?:disant|precisant) "
    r"(?:que |qu')?|(?<!est-ce )(?<!est ce )(?:que |qu'|ke )|saying (?:that )?|to say (?:that )?"
    r"|that |with )",
    re.IGNORECASE,
)
_INTERNAL = re.compile(
    r"\b(?:notes? internes?|en interne|internal(?:ly)?|private note)\b", re.IGNORECASE
)
_WORDS = re.compile(r"[^\W\d_]+")
_NO_CONTENT = frozenset("le la les l du de d un une the a an my mon ma mes this ce cette".split())


def body_in(text: str) -> tuple[str, str]:
    """The request and the comment a line carries after it ("" when it carries none)."""
    folded = "".join(strip_accents(c)[:1] or c for c in text)  # positions carry over
    candidates = []
    colon = _COLON.search(text)
    if colon:
        candidates.append(colon.end())
    connective = _CONNECTIVE.search(folded)
    if connective:
        candidates.append(connective.end())
    for start in sorted(candidates):
        if not _WORDS.search(text[:start]):
            continue  # "Qu'est-ce que...": a question opens with it, no request before it
        body = text[start:].strip(" \t\"'«»“”")
        words = _WORDS.findall(body)
        # "ticket 12 : " or "que le 12" carries no comment: only a number or a ticket word.
        if any(w.lower() not in _NO_CONTENT and not is_ticket_word(w) for w in words):
            return text[:start], body[:1].upper() + body[1:BODY_MAX]
    return text, ""


def request_in(text: str) -> str:
    """The request part of a line, where its ticket is named, not in the comment ("... : le
    bureau est le 214")."""
    return body_in(text)[0]


def comment(turn: Turn) -> None:
    """Find the ticket (ask its number if missing) and the comment (ask it if missing), then
    add it; say what was added."""
    _, body = body_in(turn.text)
    # The parser read the ticket from the request alone (entities_from=request_in).
    found = turn.which_ticket(("commenter", "comment on"), NOTHING_DONE)
    if found is None:
        return
    ticket, _ = found
    number = ticket["id"]
    internal = bool(_INTERNAL.search(strip_accents(turn.text)))
    if internal and role(turn) not in STAFF:
        turn.say(
            fr="Seuls les agents du support peuvent écrire des notes internes ; aucun "
            f"commentaire n'a été ajouté. Pour un commentaire visible, dites « commente le "
            f"ticket {number} : … ».",
            en="Only support agents can write internal notes; no comment was added. For a "
            f"visible comment, say 'comment on ticket {number}: …'.",
        )
        return
    if not body:
        answer = turn.ask(
            fr=f"Que voulez-vous ajouter au ticket n°{number} « {ticket['title']} » ? "
            "(ou « annuler »)",
            en=f"What do you want to add to ticket #{number} '{ticket['title']}'? (or 'cancel')",
        )
        if answer is None or not answer.strip():
            turn.say(fr=f"D'accord, {NOTHING_DONE[0]}.", en=f"OK, {NOTHING_DONE[1]}.")
            return
        body = answer.strip()[:BODY_MAX]
    turn.api.add_comment(number, body, internal=internal)
    kind = turn.t("Note interne", "Internal note") if internal else turn.t("Commentaire", "Comment")
    turn.say(
        fr=f"{kind} ajouté{'e' if internal else ''} au ticket n°{number} : « {body} »",
        en=f"{kind} added to ticket #{number}: '{body}'",
    )


# NUM: a ticket number in one of its written forms.
TEMPLATES = {
    "fr": [
        "{ajoute un commentaire|ajoute une note|ajoute une précision|rajoute une info|mets un "
        "commentaire|laisse un message|écris un mot|ajoute un message} {au ticket|à la "
        "demande|sur le ticket|sur la demande|sur le|à mon ticket|à ma demande} NUM{ : "
        "c'est revenu ce matin| : je serai absent demain| : merci de rappeler| : le bureau "
        "est le 214| : toujours pareil|}",
        "{commente|commenter|commentez|réponds au|répondre au|complète|compléter} {le "
        "ticket|la demande|le|ticket|demande|mon ticket} NUM{ stp| svp|}",
        "{dis|dites|précise|indique|signale} {sur le ticket|sur la demande|sur le|dans le "
        "ticket|au ticket} NUM que {je suis absent lundi|c'est urgent|ça recommence|le "
        "fournisseur a rappelé|l'écran est arrivé}",
        "{je voudrais|je veux|j'aimerais} {ajouter un commentaire|ajouter une précision|"
        "compléter ma demande|répondre au technicien|laisser un message}{ sur mon ticket| sur "
        "ma demande|}",
    ],
    "en": [
        "{add a comment|add a note|leave a message|post an update|add a detail|write a "
        "note} {to ticket|on ticket|to request|on my ticket|on|to} NUM{: it happened again"
        "| : I'm out tomorrow| - please call me back| : the office is 214|}",
        "{comment on|reply to|answer|update} {ticket|request|my ticket|issue|} NUM{ please|}",
        "{tell|let} {the tech on|them on|ticket} NUM {that I'm away monday|that it's urgent|"
        "that it broke again|know the laptop arrived}",
        "{i want to|i'd like to|can i} {add a comment|add a detail|reply to the technician|"
        "leave a message}{ on my ticket| on my request|}",
    ],
}
GENERATED = {"fr": 160, "en": 120}


def examples() -> dict[str, list[str]]:
    """Hand-written examples, then generated ones (with typing noise)."""
    generated = generate(TEMPLATES, GENERATED, seed="comment", slots={"NUM": TICKET_NUMBER_FORMS})
    return combine(examples_from_csv(EXAMPLES), generated)


@hookimpl
def register_intents(register):
    register(
        Intent(
            name="comment_ticket",
            description={
                "fr": "ajouter un commentaire à un ticket",
                "en": "add a comment to a ticket",
            },
            examples=examples(),
            handler=comment,
            expects=("ticket_id", "ticket_ids"),
            entities_from=request_in,
        )
    )
