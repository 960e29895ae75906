"""Built-in small talk: greetings, thanks, goodbyes, "how are you" and "what can you do?".

These lines are not requests, so the intent model sends them to the fallback like any
off-topic line and the bot acts on none of them. This plugin answers them through the
``fallback_reply`` hook, briefly and in the user's language, before the built-in fallback
(which answers everything else with "I did not understand").

Small talk is a closed set of formulas, recognised by their words: the whole line must be
small talk ("bonjour !", "merci beaucoup", "thanks a lot", "tu sais faire quoi ?");
"merci, et il fait beau demain ?" is left to the fallback.
"""

from __future__ import annotations

import re

from ticketbot import hookimpl
from ticketbot.dialogue import Turn
from ticketbot.nlu.answers import fold, squeeze

_KINDS = {
    "what_is_a_ticket": r"""
        c est quoi un ticket|qu est ce qu un ticket|qu est ce que c est un ticket
        |un ticket c est quoi|c est quoi une demande|ca sert a quoi un ticket|a quoi sert un ticket
        |comment marchent les tickets|comment ca marche les tickets|what is a ticket
        |what s a ticket|whats a ticket
        |what is a support ticket|how do tickets work|how does a ticket work|what are tickets for
    """,
    "capabilities": r"""
        que sais tu faire|qu est ce que tu sais faire|tu sais faire quoi|tu fais quoi
        |que peux tu faire|qu est ce que tu peux faire|tu peux faire quoi|tu sers a quoi
        |a quoi tu sers|ca sert a quoi|comment ca marche|comment tu marches|comment ca fonctionne
        |comment t utiliser|comment on fait|c est quoi tes fonctions|quelles sont tes fonctions
        |aide moi|aidez moi|aide|au secours|j ai besoin d aide|besoin d aide|help me|help
        |what can you do|what do you do|what are you for|what can i ask|what can i do
        |how does this work|how does it work|how do you work|how do i use you|how do i use this
        |what are your features
        |what do you know|what are you able to do|i need help|can you help|can you help me
        |tu peux m aider|vous pouvez m aider|pouvez vous m aider|peux tu m aider
        |qui es tu|t es qui|tu es qui|c est qui|who are you|what are you
    """,
    "how_are_you": r"""
        ca va|comment ca va|comment vas tu|comment allez vous|tu vas bien|vous allez bien
        |la forme|bien ou quoi|how are you|how are you doing|how s it going|how r u|hru
        |you ok|are you ok|what s up|wassup|sup
    """,
    "thanks": r"""
        merci|merci beaucoup|merci bien|mille mercis|merci infiniment|grand merci|super merci
        |top merci|parfait merci|c est gentil|trop gentil|merci bcp|mrc bcp|thanks|thank you
        |thanks a lot
        |thank you very much|many thanks|thx|ty|tks|cheers|much appreciated|mrc|mci
    """,
    "goodbye": r"""
        au revoir|a plus|a plus tard|a bientot|a demain|bonne journee|bonne soiree
        |bonne nuit|bon week end|ciao|tchao|salut a plus|bye|bye bye|goodbye|good bye
        |see you|see ya|see you later|good night|have a nice day|have a good day|later|cya
    """,
    "greeting": r"""
        bonjour|bonsoir|salut|coucou|hello|hi|hey|yo|wesh|bjr|slt|cc|hola|good morning
        |good afternoon|good evening|morning|re|rebonjour|hello there|hi there|hey there
    """,
    "acknowledgement": r"""
        ok|okay|oki|d accord|dac|daccord|super|cool|top|parfait|genial|tres bien|bien
        |entendu|ca marche|nickel|impeccable|good|great|perfect|fine|alright|all right
        |got it|understood|nice|awesome|noted|oui|ouais|ouai|yes|yeah|yep|yup|non|nan|no
    """,
}
# Words that may stand beside a formula: "bonjour à toi", "merci le bot", "ok merci bien".
_AROUND = frozenset(
    """
    a toi vous le bot ticketbot l equipe la team team tout monde all everyone there you u
    encore again so much beaucoup bcp bien alors donc et and madame monsieur really vraiment
    lot stp svp please pls plz ben bah bon oh ah eh hey tous toutes c est
    """.split()
)
# The more specific kind wins when a line holds several ("merci, au revoir": goodbye).
_PRIORITY = (
    "what_is_a_ticket",
    "capabilities",
    "how_are_you",
    "goodbye",
    "thanks",
    "greeting",
    "acknowledgement",
)


def _formulas(kind_source: str) -> re.Pattern[str]:
    """The formulas of one kind, written like :func:`fold` writes lines (letter runs
    squeezed: "hello" is matched as "helo"), longest first."""
    items = {squeeze(" ".join(f.split())) for f in kind_source.replace("\n", " ").split("|")}
    ordered = sorted((f for f in items if f), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(ordered) + r")\b")


_PATTERNS = {kind: _formulas(source) for kind, source in _KINDS.items()}


def small_talk_kind(text: str) -> str | None:
    """``"greeting"``, ``"how_are_you"``, ``"thanks"``, ``"goodbye"``, ``"capabilities"``,
    ``"what_is_a_ticket"`` or ``"acknowledgement"`` when the whole line is small talk,
    else None. A line holding several formulas is the most specific one ("bonjour, ça va
    ?" asks how the bot is; "ok merci" thanks it)."""
    folded = fold(text.replace("+", " plus "))
    for kind in _PRIORITY:
        folded = _PATTERNS[kind].sub(f" <{kind}> ", folded)
    words = folded.split()
    found = {w[1:-1] for w in words if w.startswith("<")}
    if not found or any(not w.startswith("<") and w not in _AROUND for w in words):
        return None
    return next(kind for kind in _PRIORITY if kind in found)


def _capabilities(turn: Turn) -> str:
    language = turn.language
    # Briefly: each intent's description without its parenthesised details.
    things = [
        re.sub(r"\s*\([^)]*\)", "", entry.intent.description[language]) for entry in turn.intents
    ]
    if not things:
        return turn.t(
            "Aucun plugin n'est chargé : je ne sais rien faire pour le moment.",
            "No plugin is loaded: I can't do anything yet.",
        )
    example = next(iter(turn.intents)).intent.example(language)
    quoted = f"« {example} »" if language == "fr" else f'"{example}"'
    return turn.t(
        f"Je peux {' ; '.join(things)}. Par exemple : {quoted}. Tapez « aide » pour le détail.",
        f"I can {'; '.join(things)}. For example: {quoted}. Type 'help' for details.",
    )


@hookimpl
def fallback_reply(turn: Turn) -> str | None:
    kind = small_talk_kind(turn.text)
    if kind is None:
        return None
    if kind == "capabilities":
        return _capabilities(turn)
    replies = {
        "what_is_a_ticket": (
            "Un ticket est une demande adressée au support (informatique, RH, finance, "
            "services généraux, juridique) : décrivez votre problème et j'en crée un, affecté "
            "au bon service.",
            "A ticket is a request to the help desk (IT, HR, Finance, Facilities, Legal): "
            "describe your problem and I'll create one, routed to the right department.",
        ),
        "greeting": (
            "Bonjour ! Décrivez votre problème, ou demandez à voir, commenter, fermer ou "
            "rouvrir un ticket.",
            "Hello! Describe your problem, or ask to see, comment on, close or reopen a ticket.",
        ),
        "how_are_you": (
            "Très bien, merci ! Que puis-je faire pour vous ?",
            "Fine, thank you! What can I do for you?",
        ),
        "thanks": ("Avec plaisir ! Autre chose ?", "You're welcome! Anything else?"),
        "goodbye": (
            "Au revoir, bonne journée ! (« quitter » ferme la session.)",
            "Goodbye, have a nice day! ('quit' closes the session.)",
        ),
        "acknowledgement": ("D'accord. Autre chose ?", "OK. Anything else?"),
    }
    return turn.t(*replies[kind])
