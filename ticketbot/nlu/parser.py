"""Parsing a line: intent (with fallback), language and entities."""

from __future__ import annotations

from ticketbot.entities import EntityExtractors
from ticketbot.intents import OUT_OF_SCOPE
from ticketbot.nlu.model import IntentModel, Parse


class Parser:
    """Turns a line into a :class:`Parse` with an intent model and entity extractors."""

    def __init__(self, model: IntentModel, extractors: EntityExtractors) -> None:
        self.model = model
        self.extractors = extractors

    @property
    def threshold(self) -> float:
        """Below this confidence the line falls back to ``out_of_scope``."""
        return self.model.threshold

    def parse(self, text: str) -> Parse:
        """What the bot understands from ``text``; never acts on a guess below the threshold."""
        ranking = self.model.rank(text, top=3)
        best, confidence = ranking[0]
        intent = best if confidence >= self.model.threshold else OUT_OF_SCOPE
        return Parse(
            text=text,
            intent=intent,
            confidence=confidence,
            ranking=ranking,
            entities=self.extractors.extract(text),
            language=self.model.detect_language(text),
        )
