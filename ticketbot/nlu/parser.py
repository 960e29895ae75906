"""Parsing a line: intent (with fallback), language and entities."""

from __future__ import annotations

from typing import Any

from ticketbot.entities import EntityExtractors
from ticketbot.intents import OUT_OF_SCOPE, IntentRegistry
from ticketbot.nlu.model import IntentModel, Parse

DEFAULT_LANGUAGE = "fr"


class Parser:
    """Turns a line into a :class:`Parse` with an intent model and entity extractors.

    ``intents`` (the registered intents) says which entities each intent expects, so that
    extractors registered ``when_expected`` run for them.
    """

    def __init__(
        self,
        model: IntentModel,
        extractors: EntityExtractors,
        intents: IntentRegistry | None = None,
    ) -> None:
        self.model = model
        self.extractors = extractors
        self.intents = intents

    @classmethod
    def for_plugins(cls, model: IntentModel, plugins: Any) -> Parser:
        """A parser with the entity extractors and intents of ``plugins`` (a
        :class:`ticketbot.plugin_manager.Plugins`)."""
        return cls(model, plugins.entity_extractors, plugins.intents)

    @property
    def threshold(self) -> float:
        """Below this confidence the line falls back to ``out_of_scope``."""
        return self.model.threshold

    def parse(self, text: str, language: str = DEFAULT_LANGUAGE) -> Parse:
        """What the bot understands from ``text``; never acts on a guess below the threshold.

        ``language`` is the conversation's language, kept when the line itself says nothing
        about its language ("ticket 8", "ok").
        """
        ranking, acts = self.model.understand(text, top=3)
        best, confidence = ranking[0]
        intent = best if acts else OUT_OF_SCOPE
        expected = self.intents.expects(intent) if self.intents is not None else ()
        detected = self.model.detect_language(text)
        # A line the bot does not act on names no help-desk entity: the "12" of "ticket de
        # bus 12" is not ticket 12.
        understood = intent != OUT_OF_SCOPE
        named = self.intents.entity_text(intent, text) if self.intents is not None else text
        return Parse(
            text=text,
            intent=intent,
            confidence=confidence,
            ranking=ranking,
            entities=self.extractors.extract(named, expected=expected) if understood else {},
            language=detected or language,
            language_detected=detected is not None,
        )
