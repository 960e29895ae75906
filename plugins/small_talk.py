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
    "capabilities": r"""
        que sais tu faire|qu est ce que tu sais faire|tu sais faire quoi|tu fais quoi
        |que peux tu faire|qu est ce que tu peux faire|tu peux faire quoi|tu sers a quoi
        |a quoi tu sers|ca sert a quoi|comment ca marche|comment tu marches|comment ca fonctionne
        |comment t utiliser|comment on fait|c est quoi tes fonctions|quelles sont tes fonctions
        |aide moi|aidez moi|aide|au secours|j ai besoin d aide|besoin d aide|help me|help
        |what can you do|what do you do|what are you for|what can i ask|what can i do
        |how does (?:this|it) work|how do (?:you|i use you|i use this)|what are your features
        |what do you know|what are you able to do|i need help|can you help(?: me)?
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
        |top merci|parfait merci|c est gentil|trop gentil|thanks|thank you|thanks a lot
        |thank you very much|many thanks|thx|ty|tks|cheers|much appreciated|mrc|mci
    """,
    "goodbye": r"""
        au revoir|a plus|a plus tard|a \+|a bientot|a demain|bonne journee|bonne soiree
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
        |got it|understood|nice|awesome|noted|oui|yes|non|no
    """,
}
# Words that may surround a formula: "bonjour à toi", "merci le bot", "hi team".
_AROUND_WORDS = """
    a toi|a vous|toi|vous|le bot|ticketbot|bot|l equipe|la team|team|tout le monde|all|everyone
    |there|you|u|encore|again|so much|beaucoup|bien|alors|donc|et|and|madame|monsieur
"""
_AROUND = r"(?:\s+(?:" + "|".join(w.strip() for w in _AROUND_WORDS.split("|")) + "))*"


def _pattern(formulas: str) -> re.Pattern[str]:
    """A whole-line pattern of one kind, written like :func:`fold` writes lines (letter runs
    squeezed: "hello" is matched as "helo")."""
    alternatives = "|".join(" ".join(line.split()).strip("|") for line in formulas.splitlines())
    alternatives = squeeze("|".join(a for a in alternatives.split("|") if a))
    return re.compile(rf"^(?:(?:{alternatives}){squeeze(_AROUND)}\s*)+$")


_PATTERNS = {kind: _pattern(formulas) for kind, formulas in _KINDS.items()}
_OPENING = re.compile(squeeze(r"^(?:bonjour|bonsoir|salut|hello|hi|hey|coucou|merci|thanks)\s+"))


def small_talk_kind(text: str) -> str | None:
    """``"greeting"``, ``"how_are_you"``, ``"thanks"``, ``"goodbye"``, ``"capabilities"``
    or ``"acknowledgement"`` when the whole line is small talk, else None. A line greeting
    and asking at once ("bonjour, ça va ?") is the more specific kind."""
    folded = fold(text)
    if not folded:
        return None
    for kind in ("capabilities", "how_are_you", "thanks", "goodbye", "greeting"):
        # Greetings and thanks may open any other formula: "bonjour, que sais-tu faire ?"
        rest = _OPENING.sub("", folded)
        if _PATTERNS[kind].match(folded) or (rest != folded and _PATTERNS[kind].match(rest)):
            return kind
    if _PATTERNS["acknowledgement"].match(folded):
        return "acknowledgement"
    return None


def _capabilities(turn: Turn) -> str:
    language = turn.language
    things = [entry.intent.description[language] for entry in turn.intents]
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
        "greeting": (
            "Bonjour ! Décrivez votre problème, ou demandez à voir ou supprimer un ticket.",
            "Hello! Describe your problem, or ask to see or delete a ticket.",
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
