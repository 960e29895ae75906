"""Built-in fallback: when the bot does not understand, say what it can do, with examples."""

from __future__ import annotations

from ticketbot import hookimpl
from ticketbot.dialogue import Turn
from ticketbot.intents import OUT_OF_SCOPE


@hookimpl(trylast=True)
def fallback_reply(turn: Turn) -> str:
    language = turn.language
    lines = [turn.t("Je n'ai pas compris votre demande.", "I didn't understand your request.")]
    guess, score = turn.ranking[0]
    entry = turn.intents.get(guess) if guess != OUT_OF_SCOPE else None
    if entry is not None:
        # Never act on a guess: suggest a clearer wording instead.
        lines.append(
            turn.t(
                f"Vouliez-vous {entry.intent.description['fr']} ? "
                f"Dites par exemple « {entry.intent.example('fr')} ».",
                f"Did you want to {entry.intent.description['en']}? "
                f'Say for example "{entry.intent.example("en")}".',
            )
        )
    else:
        lines.append(turn.t("Voici ce que je sais faire :", "Here is what I can do:"))
        open_quote, close_quote = ("« ", " »") if language == "fr" else ('"', '"')
        for registered in turn.intents:
            intent = registered.intent
            lines.append(
                f"  • {intent.description[language]} — {turn.t('ex.', 'e.g.')} "
                f"{open_quote}{intent.example(language)}{close_quote}"
            )
    lines.append(turn.t("Tapez « aide » pour plus de détails.", "Type 'help' for more."))
    return "\n".join(lines)
