"""Built-in fallback: when the bot does not understand, say so briefly and suggest a wording."""

from __future__ import annotations

from ticketbot import hookimpl
from ticketbot.dialogue import Turn
from ticketbot.intents import OUT_OF_SCOPE


@hookimpl(trylast=True)
def fallback_reply(turn: Turn) -> str:
    lines = [turn.t("Je n'ai pas compris votre demande.", "I didn't understand your request.")]
    guess, _ = turn.ranking[0]
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
    elif len(turn.intents):
        examples = [registered.intent.example(turn.language) for registered in turn.intents]
        if turn.language == "fr":
            lines.append("Essayez par exemple : " + ", ".join(f"« {e} »" for e in examples) + ".")
        else:
            lines.append("Try for example: " + ", ".join(f'"{e}"' for e in examples) + ".")
    lines.append(
        turn.t("Tapez « aide » pour ce que je sais faire.", "Type 'help' for what I can do.")
    )
    return " ".join(lines)
