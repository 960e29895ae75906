"""The conversation engine: a line in, the plugin's answer out. Independent of the console."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ticketbot.client import ApiClient, ApiProblem
from ticketbot.dialogue import Channel, ConversationEnded, Turn
from ticketbot.intents import IntentRegistry
from ticketbot.nlu.answers import Reply, classify_reply, is_bare_cancel
from ticketbot.plugin_manager import Plugins

if TYPE_CHECKING:
    from ticketbot.nlu.model import Parse
    from ticketbot.nlu.parser import Parser

log = logging.getLogger("ticketbot")


class Bot:
    """Understands a line and dispatches it to the handler of the plugin that owns the intent.

    ``parser`` may be a callable returning the :class:`Parser`, so that the model loads only
    when the first line needs it.
    """

    def __init__(
        self,
        plugins: Plugins,
        api: ApiClient,
        channel: Channel,
        parser: Parser | Callable[[], Parser],
    ) -> None:
        self.plugins = plugins
        self.api = api
        self.channel = channel
        self._parser = parser
        self.language = "fr"
        """The conversation's language: French until a line says otherwise."""
        self.language_known = False
        """True once a line has shown which language the user speaks."""
        self.ended = False
        """True once the user has left (e.g. "quitter" typed as the answer to a question)."""

    @property
    def intents(self) -> IntentRegistry:
        """The registered intents."""
        return self.plugins.intents

    @property
    def parser(self) -> Parser:
        """The parser (loading the intent model on first use)."""
        if not hasattr(self._parser, "parse"):
            self._parser = self._parser()
        return self._parser

    def handle(self, line: str) -> Parse | None:
        """Answer one line; returns what was understood (None for a blank line)."""
        if not line.strip() or self.ended:
            return None
        parse = self.parser.parse(line, language=self.language)
        if parse.language_detected:
            self.language, self.language_known = parse.language, True
        turn = Turn(parse, self.api, self.channel, self.intents, self.plugins.entity_extractors)
        if classify_reply(line) is Reply.QUIT:
            self.end()
            return parse
        if is_bare_cancel(line):
            turn.say(
                fr="Il n'y a rien à annuler. Décrivez votre problème, ou demandez à voir ou "
                "supprimer un ticket.",
                en="There is nothing to cancel. Describe your problem, or ask to see or "
                "delete a ticket.",
            )
            return parse
        if not parse.understood:
            self._fallback(turn)
            return parse
        entry = self.intents.get(parse.intent)
        if entry is None:
            turn.say(
                fr=f"J'ai reconnu l'intention « {parse.intent} », "
                "mais aucun plugin installé ne la traite.",
                en=f"I recognised the intent '{parse.intent}', but no installed plugin handles it.",
            )
            return parse
        try:
            entry.intent.handler(turn)
        except ConversationEnded:
            self.end()
        except KeyboardInterrupt:
            raise  # Ctrl-C cancels the current line (the channel decides what that means)
        except ApiProblem as problem:
            self.channel.say(problem.message(turn.language))
        except BaseException:  # noqa: BLE001 - not even SystemExit from a plugin ends the bot
            log.exception("handler of intent %r (plugin %r) failed", parse.intent, entry.plugin)
            turn.say(
                fr=f"Désolé, le plugin « {entry.plugin} » a rencontré une erreur ; "
                "rien d'autre n'a été fait.",
                en=f"Sorry, the plugin '{entry.plugin}' ran into an error; nothing else was done.",
            )
        return parse

    def end(self) -> None:
        """Say goodbye in the conversation's language; the conversation is over."""
        self.channel.say("Au revoir !" if self.language == "fr" else "Goodbye!")
        self.ended = True

    def _fallback(self, turn: Turn) -> None:
        try:
            reply = self.plugins.manager.hook.fallback_reply(turn=turn)
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: BLE001 - a plugin's bug must not end the conversation
            log.exception("fallback_reply failed")
            reply = None
        self.channel.say(
            reply
            or turn.t(
                "Je n'ai pas compris. Tapez « aide » pour voir ce que je sais faire.",
                "I didn't understand. Type 'help' to see what I can do.",
            )
        )

    def capabilities(self, language: str) -> list[tuple[str, str, str]]:
        """``(intent, description, example)`` of every registered intent in ``language``."""
        return [
            (entry.intent.name, entry.intent.description[language], entry.intent.example(language))
            for entry in self.intents
        ]
