"""What a handler works with: the :class:`Turn` of one user line, and the channel it talks on."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ticketbot.ml.text import strip_accents

if TYPE_CHECKING:
    from ticketbot.client import ApiClient
    from ticketbot.entities import EntityExtractors
    from ticketbot.intents import IntentRegistry
    from ticketbot.nlu.model import Parse

YES = frozenset({"oui", "o", "yes", "y"})
CANCEL = frozenset(
    {"annuler", "annule", "cancel", "stop", "non", "no", "n", "rien", "nothing", "quit", "exit"}
)
_BARE_NUMBER = re.compile(r"^\D{0,20}?(\d{1,18})\D{0,20}$")


class Channel(Protocol):
    """How a handler talks to the user (the console, or a test's script)."""

    def say(self, text: str) -> None:
        """Show a message."""

    def ask(self, prompt: str) -> str | None:
        """Ask a question and return the answer, or None if the user gave up (Ctrl-C, EOF)."""

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Show a table."""


def _folded(answer: str) -> str:
    return strip_accents(answer.strip().casefold()).strip(" .!?,;")


def is_yes(answer: str | None) -> bool:
    """True only for an explicit yes: ``oui``, ``o``, ``yes`` or ``y`` (any case)."""
    return answer is not None and _folded(answer) in YES


def is_cancel(answer: str | None) -> bool:
    """True when the user gave up: no answer, or a word such as ``annuler`` or ``cancel``."""
    return answer is None or not answer.strip() or _folded(answer) in CANCEL


@dataclass
class Turn:
    """One user line being answered: what was understood, and the means to answer.

    Handlers read :attr:`text`, :attr:`intent`, :attr:`entities` and :attr:`language`, call the
    ticket API through :attr:`api`, and talk with :meth:`say`, :meth:`ask`, :meth:`confirm`
    and :meth:`table`, which all take the French and the English wording and use the user's.
    """

    parse: Parse
    api: ApiClient
    channel: Channel
    intents: IntentRegistry
    extractors: EntityExtractors

    @property
    def text(self) -> str:
        """The line the user typed."""
        return self.parse.text

    @property
    def intent(self) -> str:
        """The intent understood (``out_of_scope`` on fallback)."""
        return self.parse.intent

    @property
    def confidence(self) -> float:
        """The intent model's probability for its best intent."""
        return self.parse.confidence

    @property
    def ranking(self) -> list[tuple[str, float]]:
        """The top 3 intents before any fallback."""
        return self.parse.ranking

    @property
    def entities(self) -> dict[str, Any]:
        """Entities found in the line, e.g. ``{"ticket_id": 42, "department": "IT"}``."""
        return self.parse.entities

    @property
    def language(self) -> str:
        """``"fr"`` or ``"en"``: the language to answer in."""
        return self.parse.language

    def t(self, fr: str, en: str) -> str:
        """The wording in the user's language."""
        return en if self.language == "en" else fr

    def say(self, fr: str, en: str) -> None:
        """Show a message in the user's language."""
        self.channel.say(self.t(fr, en))

    def ask(self, fr: str, en: str) -> str | None:
        """Ask a question in the user's language; None if the user gave up."""
        return self.channel.ask(self.t(fr, en))

    def confirm(self, fr: str, en: str) -> bool:
        """Ask a yes/no question; True only for an explicit ``oui/o/yes/y``."""
        return is_yes(self.ask(fr, en))

    def table(
        self,
        title: tuple[str, str],
        columns: Sequence[tuple[str, str]],
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Show a table; ``title`` and each column are ``(french, english)`` pairs."""
        self.channel.table(
            self.t(*title),
            [self.t(*column) for column in columns],
            [[str(c) for c in row] for row in rows],
        )

    def ticket_id_in(self, answer: str) -> int | None:
        """A ticket number in a follow-up answer ("42", "le 42", "ticket #42"), or None."""
        found = self.extractors.extract(answer).get("ticket_id")
        if found is not None:
            return int(found)
        match = _BARE_NUMBER.match(answer.strip())
        return int(match.group(1)) if match and int(match.group(1)) > 0 else None

    def percent(self, value: float) -> str:
        """A probability as a percentage, written the user's way ("93 %" or "93%")."""
        return self.t(f"{value:.0%}".replace("%", "\u202f%"), f"{value:.0%}")
