"""What a handler works with: the :class:`Turn` of one user line, and the channel it talks on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ticketbot.nlu.answers import Reply, classify_reply, is_cancel, is_yes

if TYPE_CHECKING:
    from ticketbot.client import ApiClient
    from ticketbot.entities import EntityExtractors
    from ticketbot.intents import IntentRegistry
    from ticketbot.nlu.model import Parse

__all__ = ["Channel", "ConversationEnded", "Turn", "is_cancel", "is_yes"]


class Channel(Protocol):
    """How a handler talks to the user (the console, or a test's script)."""

    def say(self, text: str) -> None:
        """Show a message."""

    def ask(self, prompt: str) -> str | None:
        """Ask a question and return the answer, or None if the user gave up (Ctrl-C, EOF)."""

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Show a table."""


class ConversationEnded(BaseException):
    """The user typed "quitter" / "quit" as the answer to a question: the pending action is
    abandoned and the conversation ends, as it would at the prompt.

    A ``BaseException`` (like ``KeyboardInterrupt``), so that a handler's ``except
    Exception`` does not swallow it; the :class:`ticketbot.bot.Bot` catches it.
    """


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
        """Ask a question in the user's language and return the answer.

        Returns None when the user gives up: Ctrl-C or Ctrl-D, an empty answer, or a cancel
        in any everyday form ("annule", "laisse tomber", "oublie", "non", "never mind",
        "forget it", "stop"). "quitter" / "quit" raises :class:`ConversationEnded`.
        """
        answer = self.channel.ask(self.t(fr, en))
        if answer is not None and classify_reply(answer) is Reply.QUIT:
            raise ConversationEnded
        return None if is_cancel(answer) else answer

    def confirm(self, fr: str, en: str) -> bool:
        """Ask a yes/no question; True only for a clear yes.

        Everyday forms count ("oui vas-y", "ouais", "d'accord", "yes please", "sure", "go
        ahead"); anything that negates or cancels is a no ("non merci", "surtout pas", "wait
        no", "laisse tomber"). An answer that is neither gets the question once more; if the
        second is not a clear yes either, the answer is no. "quitter" raises
        :class:`ConversationEnded`.
        """
        question = self.t(fr, en)
        for attempt in range(2):
            answer = self.channel.ask(question)
            reply = classify_reply(answer)
            if reply is Reply.QUIT:
                raise ConversationEnded
            if reply is not Reply.UNCLEAR and reply is not Reply.OTHER:
                return reply is Reply.YES
            if attempt == 0:
                self.say(
                    fr="Je n'ai pas compris votre réponse : répondez « oui » ou « non ».",
                    en="I didn't get your answer: please say 'yes' or 'no'.",
                )
        return False

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
        """A ticket number in a follow-up answer ("42", "le 42", "ticket #42"), or None.

        The answer is read as a line that expects a ticket number, so a number alone counts.
        """
        found = self.extractors.extract(answer, expected=("ticket_id",)).get("ticket_id")
        return int(found) if found is not None else None

    def which_ticket(
        self,
        verb: tuple[str, str],
        nothing_done: tuple[str, str],
    ) -> tuple[dict[str, Any], str | None] | None:
        """The ticket the line is about, and its ETag; asks for its number when the line has
        none. ``verb`` is what will be done, as an infinitive (``("fermer", "close")``);
        ``nothing_done`` ends the messages when the bot gives up (``("rien n'a été
        supprimé", "nothing was deleted")``).

        The numbers are the line's entities, read where the intent says its entities are
        (:attr:`ticketbot.intents.Intent.entities_from`). Several numbers: says one at a time
        and asks. A cancel, two answers without a number, or a ticket that does not exist (or
        that the user may not see): says so with ``nothing_done`` and returns None.
        """
        from ticketbot.client import TicketNotFound

        ticket_id = self.entities.get("ticket_id")
        several = self.entities.get("ticket_ids")
        if several:
            ticket_id = None
            listed = ", ".join(str(n) for n in several)
            self.say(
                fr=f"Un ticket à la fois, s'il vous plaît (vous avez cité les tickets {listed}).",
                en=f"One ticket at a time, please (you named tickets {listed}).",
            )
        for attempt in range(2):
            if ticket_id is not None:
                break
            answer = self.ask(
                fr=f"Quel ticket voulez-vous {verb[0]} ? Donnez son numéro (ou « annuler ») :"
                if attempt == 0
                else "Il me faut le numéro du ticket, par exemple « 12 » (ou « annuler ») :",
                en=f"Which ticket do you want to {verb[1]}? Give its number (or 'cancel'):"
                if attempt == 0
                else "I need the ticket's number, for example '12' (or 'cancel'):",
            )
            if answer is None:
                self.say(fr=f"D'accord, {nothing_done[0]}.", en=f"OK, {nothing_done[1]}.")
                return None
            ticket_id = self.ticket_id_in(answer)
        if ticket_id is None:
            self.say(
                fr=f"Je n'ai pas trouvé de numéro de ticket dans vos réponses ; {nothing_done[0]}.",
                en=f"I found no ticket number in your answers; {nothing_done[1]}.",
            )
            return None
        try:
            return self.api.get_ticket_and_etag(ticket_id)
        except TicketNotFound:
            self.say(
                fr=f"Le ticket n°{ticket_id} n'existe pas (ou plus) ; {nothing_done[0]}.",
                en=f"Ticket #{ticket_id} does not exist (or no longer); {nothing_done[1]}.",
            )
            return None

    def percent(self, value: float) -> str:
        """A probability as a percentage, written the user's way ("93 %" or "93%")."""
        return self.t(f"{value:.0%}".replace("%", "\u202f%"), f"{value:.0%}")
