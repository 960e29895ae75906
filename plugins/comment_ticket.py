"""Built-in intent ``comment_ticket``: add a comment to a ticket.

The comment is what follows a colon, or a "que" / "that" / "saying" ("ajoute au ticket 7 :
c'est revenu ce matin", "dis sur le 3 que je serai absent lundi", "reply to #4 saying the
printer works"); without them, what surrounds the ticket's reference ("rajoute au 68 il faut
2 câbles", "2 écrans de plus touchés, ajoute au 133"). A line that names no ticket is its own
comment past its request words ("jai oublie de dire ca plante 3x par jour": the bot asks
only which ticket). When the line holds no comment, the bot asks for it. Agents and admins
write an internal note when they say so ("note interne", "internal note").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ticketbot import hookimpl
from ticketbot.dialogue import Turn
from ticketbot.intents import Intent, examples_from_csv
from ticketbot.ml.text import strip_accents
from ticketbot.nlu.variants import combine, generate
from ticketbot.plugins.entities import (
    TICKET_NUMBER_FORMS,
    fold_numbers,
    is_ticket_word,
    names_a_ticket_number,
    plain_numbers,
    word_before,
)
from ticketbot.plugins.lifecycle import STAFF, role

EXAMPLES = Path(__file__).resolve().parent / "data" / "comment_ticket.csv"
NOTHING_DONE = ("aucun commentaire n'a été ajouté", "no comment was added")
BODY_MAX = 10_000
_COLON = re.compile(r"\s*(?:(?<!\d)[:：]|[:：](?!\d))\s*|\s+[-–—]\s+")
_CONNECTIVE = re.compile(
    r"\b(?:pour (?:dire|signaler|preciser|indiquer) (?:que |qu')|en (?:disant|precisant) "
    r"(?:que |qu')?|(?<!est-ce )(?<!est ce )(?:que |qu'|ke )|saying (?:that )?|to say (?:that )?"
    # "that" opens the comment, but for "put that on ticket 18", "add that to #90"
    r"|that (?!(?:on|to|in|into|onto|for)\b)|with )",
    re.IGNORECASE,
)
_INTERNAL = re.compile(
    r"\b(?:notes? internes?|en interne|internal(?:ly)?|private note)\b", re.IGNORECASE
)
_WORDS = re.compile(r"[^\W\d_]+")
_POLITE = frozenset("stp svp pls plz please merci thx thanks".split())
_NO_CONTENT = frozenset("le la les l du de d un une the a an my mon ma mes this ce cette".split())


def _folded_in_place(text: str) -> str:
    """``text`` without accents, each character where it was (positions carry over)."""
    return "".join(strip_accents(c)[:1] or c for c in text)


def body_in(text: str) -> tuple[str, str]:
    """The request and the comment a line carries after it ("" when it carries none)."""
    folded = _folded_in_place(text)
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
            if not re.search(r"\d", text[:start]):
                # "rajoute ke ca coupe tt les 2 min c pr le 77": the ticket is no comment.
                tail = _TICKET_LAST.search(_folded_in_place(body).lower())
                if tail and _has_content(body[: tail.start()]):
                    body = body[: tail.start()].rstrip(" \t,;.-–—")
            return text[:start], body[:1].upper() + body[1:BODY_MAX]
    return _around_the_ticket(text)


def _has_content(text: str) -> bool:
    """True when ``text`` says more than a request would ("stp", "je voudrais" say nothing)."""
    words = _WORDS.findall(_folded_in_place(text).casefold())
    return any(
        word not in _NO_CONTENT | _POLITE | _HEAD_WORDS and not is_ticket_word(word)
        for word in words
    )


def _references(
    folded: str, signed: Sequence[tuple[int, int]] = (), *, only_marked: bool = False
) -> list[tuple[int, int, bool]]:
    """Where ``folded`` names its ticket: the start of each reference, the end of its
    number, and whether a request to add opens it. A plain number (or one of ``signed``,
    after "#" or "n°") counts after a ticket word, right after a request to add ("ajoute
    au 47"), or after request words alone ("slt pr le 240"); with ``only_marked``, only
    after a ticket word or sign."""
    numbers = [*signed, *((m.start(), m.end()) for m in plain_numbers(folded))]
    found = []
    for begin, end in sorted(numbers):
        anchor = _ANCHOR.search(folded, 0, begin)
        marked = _MARKED_BEFORE.search(folded, 0, begin)
        if only_marked and not marked:
            continue
        if not marked and _is_a_count(folded, begin, end):
            continue
        if anchor or marked or _in_head(folded[:begin]):
            start = anchor.start() if anchor else marked.start() if marked else 0
            found.append((start, end, anchor is not None))
    return found


# Words that point at a ticket's number: "ajoute au 7", "pr le 7", "add to 7", "re 7".
_POINTERS = frozenset(
    "au aux sur ds dans pr pour en to on onto in into for re le la l les the mon ma my n no "
    "num numero nr number de du d".split()
)


def _is_a_count(folded: str, begin: int, end: int) -> bool:
    """True when a plain number in a comment's opening is a count, not its ticket: a digit
    right after the request's words, more words following ("rajout 1 detail ...", "ajoute
    stp 2 pb de plus", "add 1 thing ..."). Ticket numbers come after a word that points at
    them ("au 7", "pr le 7", "re 7") or are longer ("update 3905 vpn drops")."""
    if word_before(folded, begin) in _POINTERS or int(folded[begin:end]) >= 10:
        return False
    return any(word not in _POLITE for word in _WORDS.findall(folded[end:]))


def _around_the_ticket(text: str) -> tuple[str, str]:
    """A line without a colon or "que": when it names its ticket the way
    :func:`request_in` reads it (once), the comment is what surrounds the reference: what
    follows it ("rajoute au 68 il faut 2 câbles"), else what comes before a request to add
    ("2 écrans de plus touchés, ajoute au 133")."""
    folded = _folded_in_place(text).casefold()
    signed = [(m.start(1), m.end(1)) for m in _SIGNED.finditer(folded)]
    # "add 2 #1200 ...": once a number is marked as a ticket's, the "2" is "to".
    found = _references(folded, signed, only_marked=names_a_ticket_number(text))
    if len(found) != 1:
        return text, ""
    start, end, anchored = found[0]
    for part in (text[end:], text[:start] if anchored else ""):
        comment = part.strip(" \t,;.-–—\"'«»“”")
        if _has_content(comment):
            return text[start:end], comment[:1].upper() + comment[1:BODY_MAX]
    return text, ""


# The words a comment's request is made of, before its ticket's number: "slt pr le 240 ...",
# "g oublie ds le 17 ...", "on 502 pls ...".
_HEAD_WORDS = frozenset(
    """
    ajoute ajouter ajoutez ajoutes ajout ajt rajoute rajouter rajoutez rajoutes rajout mets
    mettre met mettez ecris ecrire ecrivez ecrit laisse laisser laissez complete completer
    completez complement complements precise preciser precisez precision precisions info
    infos information informations note noter notez notes commentaire commentaires
    commentair com coms comm comms comment comments commente commenter commentez message
    messages msg mot reponds repondre repondez dis dire dites signale signaler indique
    indiquer petit petite autre nouvelle nouveau suite rappel concernant je j jai ai g
    voudrais veux voulais aimerais souhaite peux pouvez peut tu vous oublie oublier un une
    des du de d l le la les au aux a sur ds dans pour pr en mon ma mes me m ce cet cette svp
    stp slt salut bonjour bjr coucou merci
    add adding added post leave write put update updates append mention mentioned forgot
    forget tell reply answer quick little another extra more info i id like want would
    can could may u you pls plz please hi hello hey to on in for of about re regarding my
    the a an this
    n no num numero nr number
    plus aussi fait ps fyi btw also same truc trucs chose choses thing things remarque
    remarques point points
    """.split()
)
# A request to add something, then the ticket's number: "ajoute ca au 330", "mets le sur le
# 215", "jai 2 trucs a rajouter au 56", "un detail pr le 36", "add it to 241", "note on 46".
_ADDING = (
    "ajoute|ajouter|ajoutez|ajoutes|ajout|ajt|jajoute|rajoute|rajouter|rajoutez|rajoutes|"
    "rajout|mets|mettre|met|mettez|complement|complete|completer|precision|precisions|info|"
    "infos|detail|details|com|comm|commentaire|commente|commenter|note|notes|noter|maj|add|"
    "put|update|comment|mention|append"
)
_ANCHOR = re.compile(
    rf"\b(?:{_ADDING})(?:\s+(?:ca|cela|ceci|le|la|l|it|that|this|them))?"
    r"(?:\s+(?:au|aux|a|sur|ds|dans|pr|pour|en|to|on|onto|in|for))?"
    r"(?:\s+(?:le|la|l|les|the|mon|ma|my))?"
    r"(?:\s+(?:tickets?|tikets?|tkt|demandes?|requests?|req)(?:\s*(?:n\s*[°º]|no\.?|#))?)?\s*$"
)
# The ticket named at the end of a comment: "... c pr le 77", "... its for 233", "...
# ticket 462", "... demande 77 stp"; not "... le code c 500", and a bare "pour le 12" is as
# often a date.
_TICKET_LAST = re.compile(
    r"(?:\b(?:c|cest|c'est|c est|its|it's|it is|this is|thats|that's|ca concerne|concerne)"
    r"\s+(?:pr|pour|for|sur|on|about|re)\s+(?:(?:le|la|l|the|mon|ma|my)\s+)?"
    r"(?P<plain>\d{1,18})"
    r"|(?P<marked>\b(?:ticket|tickets|tiket|tkt|tckt|demande|dmd|request|req|incident|issue)"
    r"\s*(?:n\s*[°º]?|no\.?|#)?\s*\d{1,18}|#\s*\d{1,18}))"
    r"\s*(?:stp|svp|pls|plz|please|merci|thx|thanks|[.!])*\s*$"
)
# A ticket word, or a number sign, right before a number: "ticket 12", "demande n° 4", "#7".
_MARKED_BEFORE = re.compile(
    r"(?:\b(?:tickets?|tikets?|tkt|tckt|demandes?|dmd|requests?|req|incidents?|issues?)"
    r"\s*(?:n\s*[°º]|no\.?|#)?|(?:n\s*[°º]|#))\s*$"
)
_SIGNED = re.compile(r"(?:n\s*[°º]|#)\s*(\d{1,18})(?![\d,.]\d)")
_HEAD_TOKEN = re.compile(r"[^\W\d_]+|\d+|\S")


def _in_head(before: str) -> bool:
    """True when ``before`` holds request words only ("slt pr le", "complement", "en plus
    sur le")."""
    # A count may open it too: "1 truc de plus pr le 39", "1 more thing for 139".
    return all(
        not token.isalnum()
        or token in _HEAD_WORDS
        or is_ticket_word(token)
        or (token.isdigit() and int(token) < 10)
        for token in _HEAD_TOKEN.findall(before)
    )


def request_in(text: str) -> str:
    """The part of a line where its ticket is named, not in the comment ("... : le bureau
    est le 214"). Without a colon or "que", a number the line does not mark as a ticket's
    ("ticket 12", "#12") names it only in the request's opening ("slt pr le 240 le livreur
    passe jeudi 14") or right after a request to add ("le poste 2210 a le meme pb, a
    rajouter au 47"): "ajoute une précision mon poste est le 4412" names none, and the bot
    asks which ticket."""
    request, body = body_in(text)
    if body and not re.search(r"\d", fold_numbers(request)):
        # "ajoute ke ca coupe tt les 2 min, c pr le 305": the ticket said last.
        said = text[len(request) :] if text.startswith(request) else body
        tail = _TICKET_LAST.search(fold_numbers(said).casefold())
        if tail:
            return f"{request} ; {tail.group('plain') or tail.group('marked')}"
    if body or names_a_ticket_number(text):
        return request
    folded = fold_numbers(text).casefold()
    return " ; ".join(folded[start:end] for start, end, _ in _references(folded))


# Request words that may open the comment itself: "ajoute une précision |mon poste ...",
# "mets un com |g redémarré 5 fois", "jai oublie de dire |ca plante".
_LEADS_IN = frozenset(
    """
    je j jai g ai mon ma mes me m ce cet cette le la les l un une des du de d au aux a en
    sur ds dans pour pr tu vous peux pouvez peut i id my the an this you u can could may on
    in for of to about re
    """.split()
)


_REQUEST_WORDS = _HEAD_WORDS | _POLITE


def _line_as_comment(text: str) -> str:
    """The comment of a line that names no ticket and marks no comment ("jai oublie de dire
    ca plante 3x par jour", "rajout 1 detail mon bureau a bougé"): the line past its request
    words, or "" when only those are left ("je voudrais ajouter un commentaire")."""
    folded = _folded_in_place(text).casefold()
    start = 0
    for token in _HEAD_TOKEN.finditer(folded):
        word = token.group()
        if not word.isalnum():
            continue
        if not (word in _REQUEST_WORDS or is_ticket_word(word)):
            break
        if word not in _LEADS_IN:
            start = token.end()  # "ajoute une précision| mon poste est le 4412"
    rest = text[start:].strip(" \t,;.-–—\"'«»“”")
    if not _has_content(rest):
        return ""
    return rest[:1].upper() + rest[1:BODY_MAX]


def comment(turn: Turn) -> None:
    """Find the ticket (ask its number if missing) and the comment (ask it if missing), then
    add it; say what was added. A line that names no ticket and marks no comment is the
    comment itself, once the ticket is known ("jai oublie de dire ca plante 3x par jour")."""
    _, body = body_in(turn.text)
    if not body and not re.search(r"\d", fold_numbers(request_in(turn.text))):
        body = _line_as_comment(turn.text)
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


# A detail added to a request as people type it: words that say it adds to a request, then
# what a report of a new problem would say (DETAIL: create_ticket's own examples). The same
# reports without those words are create_ticket's, so the words are what tells them apart.
ADDED_DETAIL_TEMPLATES = {
    "fr": [
        "{complément|complement|complément d'info|info supp|infos en plus|précision|petite "
        "précision|maj|mise à jour|j'ai oublié de dire|jai oublie de dire|pour info|pr info|ps"
        "|en plus|autre chose} {pour ma demande |sur mon ticket |pr ma demande |pr le NUM |sur "
        "le NUM |au NUM |}DETAIL",
        "DETAIL{, | }{à rajouter|a rajouter|à ajouter à ma demande|a rajouter au NUM|pr le "
        "NUM|rajoute le stp|à mettre sur mon ticket}",
    ],
    "en": [
        "{one more thing|forgot to mention|forgot to say|quick update|update|additional info|"
        "extra detail|fyi|ps|btw|also|note for the tech} {on my ticket |for my request |re NUM "
        "|for NUM |on NUM |}DETAIL",
        "DETAIL{, | }{add this to my ticket|add to NUM|please add to my request|for my ticket}",
    ],
}
ADDED_DETAIL_COUNT = {"fr": 150, "en": 100}


def _details() -> dict[str, list[str]]:
    """create_ticket's short examples, as the detail a comment adds."""
    from ticketbot.plugins.create_ticket import EXAMPLES as REPORTS

    details: dict[str, list[str]] = {}
    for language, texts in examples_from_csv(REPORTS).items():
        details[language] = [
            t[:1].lower() + t[1:]
            for t in texts
            if len(t.split()) <= 12 and not _ASKS_FOR_A_TICKET.search(strip_accents(t))
        ]
    return details


# The reports that ask for a ticket ("ouvre-moi un ticket", "I'd like to report an issue")
# or greet: no detail to add.
_ASKS_FOR_A_TICKET = re.compile(
    r"\b(?:tick|tik|demand|incident|dossier|issue|request|ouvr|open|cre|signal|declar|nouv|new"
    r"|raise|report|log|bonjour|bjr|salut|hello|hi|hey)\w*",
    re.IGNORECASE,
)


def examples() -> dict[str, list[str]]:
    """Hand-written examples, then generated ones (with typing noise)."""
    generated = generate(TEMPLATES, GENERATED, seed="comment", slots={"NUM": TICKET_NUMBER_FORMS})
    added = generate(
        ADDED_DETAIL_TEMPLATES,
        ADDED_DETAIL_COUNT,
        seed="comment-detail",
        slots={"NUM": TICKET_NUMBER_FORMS, "DETAIL": _details()},
    )
    return combine(examples_from_csv(EXAMPLES), generated, added)


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
