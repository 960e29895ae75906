"""Built-in entity extractors: ``ticket_id`` and ``department``.

A ticket number is recognised in two ways:

- anywhere, when the line says it is one: after a ticket word ("ticket 12", "la demande
  45", "issue 73", "tiket 8", "request #566") or in a number form ("#120", "n° 12"), unless
  it plainly belongs to something else ("facture n°4587", "salle #3", "je demande 2
  jours");
- also as the only number of the line ("supprime le 1 stp", "show 9", "le 2"), unless it
  is a date, a time, an amount, a count or an ordinal ("les 5 derniers", "le 12 mars", "3e
  étage", "14h").

Both run only for intents that expect a ticket number (``expects=("ticket_id",)``: read,
delete) and for follow-up answers: room, invoice, phone and other numbers inside a problem
description are never ticket ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ticketbot import hookimpl
from ticketbot.ml.text import strip_accents

# Words that name a ticket; typos of the longer ones (one letter off) count too.
_KEYWORDS = frozenset(
    """
    ticket tickets tiket tikets tickt tickts tiquet tiquets tix demande demandes dmd
    request requests req tkt tckt incident incidents inc requete requetes dossier dossiers case
    cases issue issues reclamation reclamations ref reference
    """.split()
)
_FUZZY_KEYWORDS = ("ticket", "tickets", "demande", "demandes", "request", "incident", "requete")
_VERB_KEYWORDS = frozenset({"demande", "demandes", "request", "requests", "req"})
# Words ending in s or x after "demande 15" that are no counted noun ("demande 15 depuis").
_NOT_PLURAL_NOUNS = frozenset(
    """
    plus pas mais depuis apres sous vers dans sans chez alors aussi toujours jamais tous
    toutes les des mes tes ses nos vos leurs ceux deux trois is was has its this thus yes
    always as us his yours ours
    """.split()
)
# After a ticket's number, "plus" and "more" go on with the line ("ticket 1500 more info").
_GOES_ON = frozenset({"plus", "more"})
_NUMBER_SIGN = r"(?:n\s*[°º]|no\.?|num(?:ero)?\.?|number|nr\.?|#)"
# A word then, optionally, a number sign, then the number: "ticket n° 12", "demande 45".
_AFTER_WORD = re.compile(rf"([^\W\d_]+)\s*(?:{_NUMBER_SIGN}\s*)?(\d{{1,18}})(?![\d,.]\d)", re.I)
# A number sign alone: "#12", "n°12". ("numéro 12" alone is anything's number: "le numéro 5
# du classement"; it is a ticket only after a ticket word, or where a ticket is expected.)
_AFTER_SIGN = re.compile(r"(?:^|(?<=[^\w#]))(?:n\s*[°º]|#)\s*(\d{1,18})(?![\d,.]\d)", re.I)
_NUMBER = re.compile(r"(?<![\w/.,:#°º$£€-])(\d{1,18})(?![\w/:%€$°-]|[.,]\d)")
_WORD = re.compile(r"[^\W\d_]+|\S")
# Letters glued to a number make it a code or a quantity ("ref 26A", "n°3x", "#12go"), but
# for a polite word typed without its space ("ticket 45stp").
_GLUED = re.compile(r"(?!(?:stp|svp|pls|plz|please|merci|thx|thanks)\b)[^\W\d_]", re.I)

# A number followed by one of these is a quantity, a date or a unit, not a ticket.
_NOT_AFTER = frozenset(
    """
    derniers dernieres dernier derniere premiers premieres last latest first recent recents
    jours jour j days day semaines semaine weeks week mois months month ans an annees years
    year heures heure h hours hour hrs min minutes minute mn secondes seconds sec fois times
    euros euro eur e k dollars usd pounds gbp eme er ere e nd rd th st pages page lignes
    personnes personne people persons ppl pers gens salaries employees users user utilisateurs
    utilisateur collegues colleagues agents postes ecrans screens monitors moniteurs pc laptops
    claviers keyboards souris cables imprimantes printers ordinateurs computers machines
    licences licenses
    janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec etage etages floor floors
    pouces inch inches go gb mo mb ko kb ghz mhz tickets demandes requests plus more autres
    others x € $ % £ balles mins hr hrs secs jrs sem sems essais essai tentatives tries
    attempts reboots restarts redemarrages appels calls mails emails messages msg msgs sms
    fichiers files documents docs choses chose trucs truc infos precisions mots photos
    captures screenshots screens pieces details commentaires coms notes points questions
    elements things bits pics images pj pts pourcent pourcents percent
    """.split()
)
# A number right after one of these belongs to it: "salle 214", "facture n°4587".
_NOT_BEFORE = frozenset(
    """
    bureau bureaux salle salles facture factures commande commandes bon room rooms office
    offices invoice invoices order orders po badge poste postes etage floor porte door
    contrat contrats contract contracts rue street avenue bd boulevard batiment building
    bat appartement appart chambre siege place places parking vehicule vehicle voiture car
    compte account telephone phone tel tél portable mobile ligne line lot serie serial
    version build erreur error code codes err article articles clause clauses dossier
    matricule employee id iban rib siret siren tva vat cheque check page pages projet
    project lignes tableau table niveau level quai dock casier locker badges imprimante
    printer ecran screen pc laptop ordinateur computer serveur server vm cle key
    windows office excel iphone android ios version v tome volume chapitre chapter ext
    extension desk bldg flr rm gate win model modele modeles models ref
    lundi mardi mercredi jeudi vendredi samedi dimanche lun jeu ven sam dim
    monday tuesday wednesday thursday friday saturday sunday tue tues wed thu thur thurs fri
    sat sun
    dell latitude precision optiplex inspiron vostro xps hp elitebook probook zbook pavilion
    lenovo thinkpad thinkcentre ideapad asus zenbook vivobook acer aspire travelmate
    macbook imac ipad surface galaxy pixel canon epson brother xerox ricoh kyocera lexmark
    samsung logitech jabra poly plantronics laserjet officejet deskjet pixma ecosys mf
    vers avant apres till until since depuis around environ env approx at after before
    """.split()
)


# Numbers written in words ("ticket douze", "quatre-vingt-dix-neuf", "deux cent trois",
# "one hundred and five"). "un", "une" and "one" alone are left out: they are articles and
# pronouns far more often than numbers; inside a longer number they count.
_VALUES = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
    "quinze": 15, "seize": 16, "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40,
    "cinquante": 50, "soixante": 60,
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_HUNDRED = ("cent", "cents", "hundred")
_THOUSAND = ("mille", "thousand")
_ALONE_IS_NOT_A_NUMBER = ("un", "une", "one")
_NUMBER_WORD = (
    "(?:" + "|".join(sorted((*_VALUES, *_HUNDRED, *_THOUSAND), key=len, reverse=True)) + ")"
)
_NUMBER_WORDS = re.compile(
    rf"\b{_NUMBER_WORD}(?:(?:[\s-]+(?:et|and)[\s-]+|[\s-]+){_NUMBER_WORD})*\b", re.IGNORECASE
)


def _number(words: list[str]) -> int | None:
    """The value of number words in order, or None when they do not make one number
    ("deux trois", "un et deux")."""
    total = current = 0
    limit = 10**6  # the largest value the next added word may have
    for index, word in enumerate(words):
        if word in _HUNDRED:
            if current >= 100:
                return None
            current, limit = (current or 1) * 100, 100
        elif word in _THOUSAND:
            if total or current >= 1000:
                return None
            total, current, limit = (current or 1) * 1000, 0, 1000
        elif word in ("vingt", "vingts") and index and words[index - 1] == "quatre":
            current, limit = current + 80 - 4, 20  # quatre-vingt(s): 80
        else:
            value = _VALUES[word]
            if value >= limit and not (
                value == 4 and words[index + 1 : index + 2] in (["vingt"], ["vingts"])
            ):
                return None
            current += value
            limit = 20 if value in (60, 80) else 10 if value % 10 == 0 and value >= 10 else 1
            if words[index + 1 : index + 2] and words[index + 1] in _HUNDRED + _THOUSAND:
                limit = 10**6
    return total + current


def _word_to_digits(match: re.Match[str]) -> str:
    text = match.group()
    words = [w for w in re.split(r"[\s-]+", text.lower()) if w not in ("et", "and")]
    if len(words) == 1 and words[0] in _ALONE_IS_NOT_A_NUMBER:
        return text
    value = _number(words)
    if value is not None:
        return str(value)
    # Several numbers in a row ("tickets trois et quatre"): each on its own.
    return re.sub(
        _NUMBER_WORD,
        lambda one: (
            one.group()
            if one.group().lower() in _ALONE_IS_NOT_A_NUMBER
            else str(_number([one.group().lower()]) or one.group())
        ),
        text,
        flags=re.IGNORECASE,
    )


# "un", "une", "one" right after a word that names a ticket are its number ("ticket one").
_ONE_AFTER_TICKET = re.compile(
    r"\b(tickets?|tikets?|demandes?|requests?|incidents?|issues?|numero|number|no)\s+"
    r"(?:un|une|one)\b",
    re.IGNORECASE,
)


def with_digits(text: str) -> str:
    """``text`` with numbers written in words as digits ("ticket douze" -> "ticket 12",
    "quatre-vingt-dix-neuf" -> "99", "number twenty-one" -> "number 21", "ticket one" ->
    "ticket 1"). Accents must already be removed."""
    return _ONE_AFTER_TICKET.sub(r"\1 1", _NUMBER_WORDS.sub(_word_to_digits, text))


def _fold(text: str) -> str:
    return strip_accents(text).casefold()


def _one_letter_off(word: str, target: str) -> bool:
    """True when ``word`` is ``target`` with one letter added, dropped, changed or two
    neighbours swapped ("tikcet", "tcket", "ticcket", "demade")."""
    if abs(len(word) - len(target)) > 1 or word == target:
        return word == target
    if len(word) == len(target):
        diff = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        if len(diff) == 1:
            return True
        i = diff[0]
        return (
            len(diff) == 2
            and diff[1] == i + 1
            and word[i] == target[i + 1]
            and word[i + 1] == target[i]
        )
    short, long = sorted((word, target), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def is_ticket_word(word: str) -> bool:
    """True for a word that names a ticket, typos included ("ticket", "tiket", "demande",
    "issue", "request", "incident")."""
    word = _fold(word)
    if word in _KEYWORDS:
        return True
    return len(word) >= 5 and any(_one_letter_off(word, target) for target in _FUZZY_KEYWORDS)


def _next_word(text: str, end: int) -> str:
    match = _WORD.search(text, end)
    return _fold(match.group()) if match else ""


def word_before(text: str, start: int) -> str:
    """The word before position ``start`` of ``text``, folded ("" at the start)."""
    words = re.findall(r"[^\W\d_]+", text[:start])
    return _fold(words[-1]) if words else ""


# Words between a thing and its number: "mon poste est le 4412", "my extension is 5520",
# "le bureau c'est le 214".
_LINKING = frozenset(
    "le la l les est c cest s is are was it the a mon ma my notre our de du d au numero no n "
    "nr num number".split()
)


def _owner_word(text: str, start: int) -> str:
    """The word a number belongs to: the one before it, past linking words ("est", "le",
    "is"), at most three of them."""
    words = re.findall(r"[^\W\d_]+", text[:start])[-4:]
    for word in reversed(words):
        word = _fold(word)
        if word not in _LINKING:
            return word
    return ""


def _is_quantity(text: str, end: int) -> bool:
    """True when the number ending at ``end`` is followed by a unit or a counted noun, or
    has letters glued to it (a code or a unit: "26A", "3x")."""
    following = _next_word(text, end)
    if re.match(r"\s*[^\W\d_]\s*['’]", text[end:]):
        return False  # "918 j'ai": an elided word, not a unit ("3 j")
    if _GLUED.match(text, end):
        return True
    # "drops 2 15%", "9 30": a number right before another is not a ticket either.
    return following in _NOT_AFTER or following.isdigit()


_COUNT_AFTER = re.compile(r"\s+\d+\s+([^\W\d_]+)")
# What a count counts, or opens with: "3 autres personnes", "1 autre pc", "3 other people"
# (after a ticket's number, "other" alone is no count: "close 12, the other one too").
_COUNTED = _NOT_AFTER | {"other", "autre", "autres", "more", "plus", "new", "nouveaux"}


def _counts_things(text: str, end: int) -> bool:
    """True when a number follows the one ending at ``end`` and counts things: "3 autres
    personnes", "2 more screens", "4 licences" (a word after a space: not "2 15%")."""
    match = _COUNT_AFTER.match(text, end)
    return bool(match) and _fold(match.group(1)) in _COUNTED


def _ticket_before_a_count(folded: str, number: re.Match[str]) -> bool:
    """True for a ticket's number right before a count: "ticket 84 3 autres personnes"."""
    return _counts_things(folded, number.end()) and is_ticket_word(
        word_before(folded, number.start())
    )


# Another tool's issues and tickets: "issue 57 on our GitHub repo", "la PR 12", "JIRA-431".
_OTHER_TRACKER = re.compile(
    r"\b(?:github|gitlab|bitbucket|jira|bugzilla|redmine|trello|asana|repo|repository|depot"
    r"|pull request|merge request|sprint|backlog)\b"
    # "la PR 12", "MR #5" (alone, "pr" is SMS French for "pour")
    r"|\b(?:pr|mr)\s*#?\d",
    re.IGNORECASE,
)


def names_another_tracker(text: str) -> bool:
    """True for a line about another tool's issues (a code host, a project tracker): its
    numbers are not help-desk tickets."""
    return bool(_OTHER_TRACKER.search(strip_accents(text)))


def ticket_id(text: str) -> int | None:
    """The ticket number a line names explicitly ("ticket 12", "la demande n° 45", "#12",
    "n°12", "issue 73", "tiket 8", "ticket douze"), or None: also when it names several
    ("supprime les tickets 3 et 4" names no single ticket; see :func:`several_ticket_numbers`)."""
    number = _first_ticket_number(text)
    if number is not None and number in (several_ticket_numbers(text) or ()):
        return None
    return number


def _first_ticket_number(text: str) -> int | None:
    if names_another_tracker(text):
        return None
    for number, _ in _marked_numbers(with_digits(strip_accents(text))):
        return number
    return None


def names_a_ticket_number(text: str) -> bool:
    """True when the line marks a number as a ticket's ("ticket 12", "#4", "la demande 45"),
    whatever other numbers it holds."""
    if names_another_tracker(text):
        return False
    return next(_marked_numbers(fold_numbers(text)), None) is not None


def _marked_numbers(folded: str) -> Iterator[tuple[int, int]]:
    """The numbers the line marks as tickets' (after a ticket word, then after a number
    sign), with where each ends."""
    for match in _AFTER_WORD.finditer(folded):
        word = _fold(match.group(1))
        if not is_ticket_word(word):
            continue
        following = _next_word(folded, match.end())
        # A ticket's number before a count stays its: "ticket 84 3 autres personnes".
        if _marked_is_quantity(folded, match.end()) and not _counts_things(folded, match.end()):
            continue
        if (
            word in _VERB_KEYWORDS
            and following.endswith(("s", "x"))
            and following not in _NOT_PLURAL_NOUNS
        ):
            continue  # "je demande 2 écrans": a verb and a count
        number = int(match.group(2))
        if number > 0:
            yield number, match.end()
    for match in _AFTER_SIGN.finditer(folded):
        if word_before(folded, match.start()) in _NOT_BEFORE:
            continue
        if _marked_is_quantity(folded, match.end()) or match.group(1).startswith("0"):
            continue
        number = int(match.group(1))
        if number > 0:
            yield number, match.end()


def _marked_is_quantity(folded: str, end: int) -> bool:
    """True when the number after a ticket word or sign, ending at ``end``, is a quantity:
    as :func:`_is_quantity`, but "plus" and "more" go on with the line ("ticket 1500 more
    info") unless a count follows them ("ticket 2 more people", "#3 plus 2 écrans")."""
    if not _is_quantity(folded, end):
        return False
    if _next_word(folded, end) not in _GOES_ON:
        return True
    after = re.match(r"\s*[^\W\d_]+", folded[end:])
    return _is_quantity(folded, end + after.end())


# A number right after another is part of it ("06 12 34 56 78", "9 30").
_AFTER_A_NUMBER = re.compile(r"\d[\s.-]*$")


def fold_numbers(text: str) -> str:
    """``text`` as the number rules read it: accents removed, numbers in words as digits."""
    return with_digits(strip_accents(text))


def plain_numbers(folded: str) -> list[re.Match[str]]:
    """The numbers of a line (as :func:`fold_numbers` gives it), dates, times (an hour
    after a bare "à": "passé à 9"), amounts, counts and ordinals aside, numbers with a
    leading zero (phones, times, codes: "0612345678", "0800") and those of a thing named
    after them ("4471 c'est mon poste")."""
    return [
        m
        for m in _NUMBER.finditer(folded)
        if (not _is_quantity(folded, m.end()) or _ticket_before_a_count(folded, m))
        and not _AFTER_A_NUMBER.search(folded, 0, m.start())
        and _owner_word(folded, m.start()) not in _NOT_BEFORE
        and not _owned_after(folded, m.end())
        and not (word_before(folded, m.start()) == "a" and int(m.group(1)) <= 24)
        and not (m.group(1).startswith("0") and len(m.group(1)) >= 2)
    ]


# A thing named after its number: "4471 c'est mon poste", "214 = la salle", "5520 is my
# extension", "... 4471 mon poste" (at the end).
_OWNER_AFTER = re.compile(
    r"\s*(?:=\s*|(?:c|cest|c'est|c est|est|is|its|it's|it is)\s+)"
    r"(?:(?:mon|ma|my|le|la|l'|the|notre|our)\s*)?([^\W\d_]+)"
    r"|\s+(?:mon|ma|my|notre|our)\s+([^\W\d_]+)\W*$",
    re.IGNORECASE,
)


def _owned_after(folded: str, end: int) -> bool:
    match = _OWNER_AFTER.match(folded, end)
    return bool(match) and _fold(match.group(1) or match.group(2)) in _NOT_BEFORE


def only_number(text: str) -> int | None:
    """The only number of a line that expects a ticket number ("supprime le 1 stp", "le 2",
    "show 9", "ferme le 112 le tech a changé les 2 écrans"), dates, times, amounts, counts,
    ordinals and other things' numbers ("salle 214") aside; None when there is none or
    several."""
    if names_another_tracker(text):
        return None
    numbers = plain_numbers(fold_numbers(text))
    if len(numbers) != 1:
        return None
    number = int(numbers[0].group(1))
    return number if number > 0 else None


# A list going on after a ticket's number: "13 et 14", "#3, #4", "12 or the 13".
_LIST_GOES_ON = re.compile(
    r"\s*(?:,|;|/|&|\+|\bet\b|\band\b|\bou\b|\bor\b)\s*(?:(?:le|la|les|du|the|tickets?)\s+)?"
    r"(?:(?:n\s*[°º]|#)\s*)?(\d{1,18})(?![\w/:%€$°-]|[.,]\d)",
    re.IGNORECASE,
)


def several_ticket_numbers(text: str) -> list[int] | None:
    """The ticket numbers of a line that names several ("supprime les tickets 13 et 14",
    "#3, #4", "supprime le 3 et le 4"), or None when it names fewer than two. Once a number
    is marked as a ticket's, only other marked ones and those listed with it count: "ticket
    414, room 118 tomorrow at 10" names one ticket."""
    if names_another_tracker(text):
        return None
    folded = with_digits(strip_accents(text))
    marked = list(_marked_numbers(folded))
    found = []
    for number, end in marked:
        found.append(number)
        while (more := _LIST_GOES_ON.match(folded, end)) and not _is_quantity(folded, more.end()):
            found.append(int(more.group(1)))
            end = more.end()
    if not marked:
        found = [int(m.group(1)) for m in plain_numbers(folded)]
    numbers = sorted({n for n in found if n > 0})
    return numbers if len(numbers) >= 2 else None


TICKET_NUMBER_FORMS = {
    "fr": ["3", "12", "45", "120", "7", "2048", "n°12", "n° 8", "#120", "#4", "numéro 5", "no 9"],
    "en": ["3", "12", "45", "120", "7", "2048", "#120", "#4", "no. 12", "number 5", "nr 8"],
}
"""Ways people write a ticket number, for generated training examples (``NUM`` slots)."""


# Patterns run on the accent-free text; "IT" must be written in capitals (or sit next to
# "ticket(s)"), since "it" is an English pronoun.
_DEPARTMENTS = {
    "IT": [
        re.compile(r"\bIT\b"),
        re.compile(
            r"\b(?:tickets?|service|team|equipe|department)\s+it\b|\bit\s+(?:tickets?|team|department|support)\b",
            re.I,
        ),
        re.compile(r"\b(?:informatiques?|dsi|service info)\b", re.I),
    ],
    "HR": [re.compile(r"\b(?:hr|rh|drh|ressources humaines|human resources|people team)\b", re.I)],
    "Finance": [
        re.compile(
            r"\b(?:finances?|financier|compta|comptabilite|accounting|accounts payable)\b", re.I
        )
    ],
    "Facilities": [
        re.compile(
            r"\b(?:facilit(?:y|ies)|services? generaux|moyens generaux"
            r"|logistique batiment|building services)\b",
            re.I,
        )
    ],
    "Legal": [re.compile(r"\b(?:legal|juridiques?|juriste|service juridique)\b", re.I)],
}


def department(text: str) -> str | None:
    """The department named in ``text`` (IT, HR, Finance, Facilities, Legal), if any."""
    folded = strip_accents(text)
    for label, patterns in _DEPARTMENTS.items():
        if any(pattern.search(folded) for pattern in patterns):
            return label
    return None


# Which tickets a list is about: the caller's own, those assigned to the caller, or nobody's.
_UNASSIGNED = re.compile(
    r"\b(?:non (?:assigne|attribue|affecte)|pas (?:encore )?(?:assigne|attribue|affecte)"
    r"|sans (?:responsable|assignation|personne)|unassigned|not assigned|nobody's|no one's"
    r"|no owner)",
    re.IGNORECASE,
)
_ASSIGNED = re.compile(
    r"\b(?:(?:assigne|attribue|affecte)e?s? a moi|qui me sont (?:assigne|attribue|affecte)"
    r"|(?:mes|my) (?:\w+ )?(?:assigne|attribue|affecte|assigned)|assigned to (?:me|myself)"
    r"|ma file|my queue|on my plate|dont je (?:m'occupe|suis responsable|ai la charge)"
    r"|que je (?:traite|dois traiter|gere)|(?:i'm|i am|im) (?:handling|working on|assigned)"
    r"|i (?:handle|own|work on)|(?:mine|me) to (?:handle|work on|fix)|responsible for)",
    re.IGNORECASE,
)
_MINE = re.compile(
    r"\b(?:mes|my|mine|j'ai (?:cree|ouvert|fait|envoye|soumis)\w*"
    r"|i (?:opened|created|submitted|filed|sent|raised|made))\b",
    re.IGNORECASE,
)
_STATUS_WORDS = {
    "open": re.compile(r"\b(?:ouverte?s|open (?:tickets|requests|issues|ones))\b", re.I),
    "resolved": re.compile(r"\b(?:resolue?s|resolved)\b", re.I),
    "closed": re.compile(r"\b(?:fermee?s|clos|closes|cloturee?s|closed)\b", re.I),
}


def scope(text: str) -> str | None:
    """Whose tickets a list is about: ``"assigned"`` (to the caller), ``"unassigned"``,
    ``"mine"`` (created by the caller), or None for every ticket the caller may see."""
    folded = strip_accents(text)
    if _UNASSIGNED.search(folded):
        return "unassigned"
    if _ASSIGNED.search(folded):
        return "assigned"
    if _MINE.search(folded):
        return "mine"
    return None


def status_filter(text: str) -> str | None:
    """The status a list asks for ("tickets ouverts", "closed requests"), if any."""
    folded = strip_accents(text)
    found = [status for status, pattern in _STATUS_WORDS.items() if pattern.search(folded)]
    return found[0] if len(found) == 1 else None


@hookimpl
def register_entity_extractors(register):
    # A ticket number is an entity of the lines about a ticket (intents that expect one):
    # "le ticket 45 que j'ai ouvert" in a new problem's description is no ticket to act on.
    register("ticket_id", ticket_id, when_expected=True)
    register("ticket_id", only_number, when_expected=True)
    register("ticket_ids", several_ticket_numbers, when_expected=True)
    register("department", department)
    register("scope", scope, when_expected=True)
    register("status", status_filter, when_expected=True)
