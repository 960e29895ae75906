"""Recognising the answer to a question the bot asked: yes, no, cancel, quit, or something else.

The answer to "Supprimer définitivement le ticket n°1 ?" is not a chat line to classify: it
is one of a few kinds of reply, said in many everyday ways ("oui vas-y", "ouais", "yes
please", "go ahead", "non merci", "surtout pas", "wait no", "laisse tomber"). These are
closed, well-known sets of phrases, so they are matched on words, not guessed by a model:
the result is predictable, and safe where it matters (anything that negates is never a yes).

Matching is done on a folded form of the answer: lowercase, no accents, apostrophes and
hyphens as spaces, punctuation dropped, letter runs squeezed ("ouiii" -> "oui").
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache

from ticketbot.ml.text import strip_accents


class Reply(Enum):
    """What kind of answer a user gave to a question."""

    YES = "yes"
    NO = "no"
    CANCEL = "cancel"
    QUIT = "quit"
    UNCLEAR = "unclear"
    """Hesitation ("hmm", "je sais pas", "maybe"): neither yes nor no."""
    OTHER = "other"
    """Anything else: a free-text answer (a description, a ticket number...)."""


# Phrases first (longest first), each replaced by one marker word; then single words.
_PHRASES = {
    "yes": """
        pas de souci|pas de soucis|pas de probleme|pas de problemes|sans probleme|pas de pb
        no problem|no problemo|no worries|of course|bien sur|tout a fait|c est ca|c est parti
        go ahead|go for it|do it|please do|fais le|fait le|vas y|va y|allez y|allons y|je confirme
        yes please|oui oui|that s right|thats right|you bet|sounds good|fine by me|right away
        avec plaisir|je veux bien|ca marche|ca roule|ok pour moi|d accord|bien entendu
    """,
    "no": """
        non merci|no thanks|no thank you|surtout pas|pas question|hors de question|pas du tout
        certainement pas|absolument pas|pas maintenant|not now|no way|don t|do not|dont
        ne le supprime pas|ne supprime pas|keep it|garde le|on garde|je garde|not really
        pas vraiment|changed my mind|j ai change d avis|finalement non|en fait non|mais non
    """,
    "unclear": """
        je sais pas|je ne sais pas|sais pas|chais pas|ch sais pas|j sais pas|jsais pas|jsp
        i don t know|i dont know|don t know|dont know|dunno|idk|not sure|pas sur|pas sure
        peut etre|je pense|i think|i guess|i suppose|pourquoi pas|why not|let me think
        je reflechis|attends|attendez|wait|hold on|une seconde|one sec|bof|hmm|hum|euh|heu
        maybe|perhaps|possibly|probably|probablement|sans doute
    """,
    "cancel": """
        laisse tomber|laissez tomber|laisse beton|oublie ca|oubliez ca|oublie le|forget it
        forget about it|forget that|never mind|nevermind|tant pis|pas grave|c est pas grave
        ce n est pas grave|on arrete|on annule|j annule|i give up|je laisse tomber|abandonne
    """,
}
_WORDS = {
    "yes": """
        oui ouai ouais ouaip ouep ouip ouii o y yes yeah yea yep yup ya yas sure ok okay oki okey
        k kk dac dacc daccord go confirme confirmer confirm confirmed confirmes absolument
        certainement carement evidement evidemment exactement exact volontiers affirmatif
        certainly absolutely definitely correct indeed supprime supprimer supprimez efface
        effacer delete remove vasy parfait perfect
    """,
    "no": """
        non no nope nah nan nn n nein niet jamais never pas ne garde gardez keep
    """,
    "cancel": """
        annule annuler annulez annulation cancel cancelled canceled stop arrete arreter
        oublie oubliez forget abandon abandonner abort nvm rien nothing
    """,
    "quit": "quit quitter exit",
}
# Words that may surround an answer without changing it ("oui stp", "non merci", "ok then").
_FILLERS = frozenset(
    """
    stp svp sil te plait vous please pls plz merci thanks thank thx mrc mci
    alors bon ben bah bien eh oh ah ha hey well so then now maintenant la voila
    le la les l it that this one ca ce cela celui celle ticket tickets demande request
    ma mon mes my the a un une de du des tout all en fait finalement actually
    tu peux vous pouvez you can could je i moi me juste just vraiment really
    oui
    """.split()
)
# The fillers that can stand beside a cancel typed at the prompt with nothing pending: not
# "ticket", "ma demande", "it"... ("annule ma demande" at the prompt asks to delete one).
_POLITE = frozenset(
    "stp svp sil te plait vous please pls plz merci thanks alors bon ben bah eh oh ah".split()
)


def squeeze(text: str) -> str:
    """Letter runs squeezed to one letter, as :func:`fold` does ("ouiii" -> "oui")."""
    return re.sub(r"([a-z])\1+", r"\1", text)


def fold(text: str) -> str:
    """The folded form used for matching: ``"Oui, vas-y !"`` -> ``"oui vas y"``."""
    text = strip_accents(text.casefold()).replace("’", "'")
    text = re.sub(r"['\-_]", " ", text)
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(squeeze(text).split())


def _phrase_pattern(phrases: str) -> re.Pattern[str]:
    items = sorted(
        {squeeze(" ".join(p.split())) for p in phrases.split("|") if p.strip()},
        key=len,
        reverse=True,
    )
    return re.compile(r"\b(?:" + "|".join(map(re.escape, items)) + r")\b")


_PHRASE_PATTERNS = {
    kind: _phrase_pattern("|".join(line.strip() for line in phrases.strip().splitlines()))
    for kind, phrases in _PHRASES.items()
}
_WORD_KINDS = {squeeze(word): kind for kind, words in _WORDS.items() for word in words.split()}


def _words(answer: str) -> list[str]:
    """The folded words of ``answer``, each known phrase replaced by its kind ("<yes>")."""
    text = fold(answer)
    for kind in ("unclear", "no", "cancel", "yes"):
        text = _PHRASE_PATTERNS[kind].sub(f" <{kind}> ", text)
    return text.split()


def _kind(word: str) -> str | None:
    return word[1:-1] if word.startswith("<") else _WORD_KINDS.get(word)


@lru_cache(maxsize=1024)
def _markers(answer: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(kinds of the answer's words, the words that are neither a marker nor a filler)."""
    kinds, others = [], []
    for word in _words(answer):
        kind = _kind(word)
        if kind is not None:
            kinds.append(kind)
        elif word not in _FILLERS:
            others.append(word)
    return tuple(kinds), tuple(others)


def classify_reply(answer: str | None) -> Reply:
    """The kind of ``answer`` (None, as on Ctrl-D or Ctrl-C, is a cancel).

    - QUIT only when the answer is a quit word alone ("quitter", "quit", "exit").
    - NO as soon as anything negates ("non", "surtout pas", "wait no", "ne le supprime pas"),
      even beside a yes ("oui... enfin non"): nothing destructive happens on a mixed answer.
    - CANCEL for "annule", "laisse tomber", "never mind", "forget it", "stop"...
    - UNCLEAR for hesitation ("hmm", "je sais pas", "maybe").
    - YES for "oui", "ouais", "oui vas-y", "d'accord", "yes please", "sure", "go ahead"...,
      only when nothing else is said besides polite filler words.
    - OTHER for every other answer (free text: a description, a number...).
    """
    if answer is None:
        return Reply.CANCEL
    if not fold(answer):
        return Reply.CANCEL  # an empty answer gives up
    kinds, others = _markers(answer.strip())
    if not kinds:
        return Reply.OTHER if others else Reply.UNCLEAR  # "merci", "stp": no answer yet
    present = set(kinds)
    if present == {"quit"} and not others:
        return Reply.QUIT
    if "cancel" in present and not others and present <= {"cancel", "no"}:
        return Reply.CANCEL
    if "no" in present:
        return Reply.NO if not others or len(others) <= 2 else Reply.OTHER
    if others:
        return Reply.OTHER
    if "unclear" in present:
        return Reply.UNCLEAR
    if present <= {"yes"}:
        return Reply.YES
    return Reply.UNCLEAR


def is_yes(answer: str | None) -> bool:
    """True only for a clear yes (see :func:`classify_reply`)."""
    return classify_reply(answer) is Reply.YES


def is_cancel(answer: str | None) -> bool:
    """True when a free-text answer gives up: no answer, "annule", "laisse tomber", "non"..."""
    kind = classify_reply(answer)
    return kind is Reply.CANCEL or (kind is Reply.NO and not _markers(answer or "")[1])


def is_bare_cancel(line: str) -> bool:
    """True for a cancel typed alone ("annuler", "cancel", "laisse tomber", "stop stp"), not
    for a request about a ticket ("annule ma demande 7", "cancel my ticket")."""
    if classify_reply(line) is not Reply.CANCEL or not fold(line):
        return False
    return all(_kind(word) is not None or word in _POLITE for word in _words(line))


def is_quit(answer: str | None) -> bool:
    """True for "quitter", "quit" or "exit" typed alone."""
    return answer is not None and classify_reply(answer) is Reply.QUIT
