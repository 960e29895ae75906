"""The intent model and what parsing a line gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ticketbot.intents import OUT_OF_SCOPE

if TYPE_CHECKING:  # numpy loads with the model, not with this module (shell start-up)
    from ticketbot.ml.linear import LinearTextClassifier

# A line is English only when the language model is fairly sure: French is the default.
ENGLISH_MIN_PROBABILITY = 0.6


@dataclass
class IntentModel:
    """The pickled intent model: intent classifier, language classifier, fallback threshold.

    ``threshold`` is the confidence below which the bot falls back instead of acting; it is
    chosen at training time from cross-validated predictions (see ``ticketbot.nlu.training``).
    """

    intents: LinearTextClassifier | None
    language: LinearTextClassifier | None
    threshold: float

    def detect_language(self, text: str) -> str:
        """``"en"`` when the line is English, else ``"fr"``."""
        if self.language is None or not any(c.isalpha() for c in text):
            return "fr"
        probabilities = dict(
            zip(self.language.classes, self.language.predict_proba(text), strict=True)
        )
        return "en" if probabilities.get("en", 0.0) >= ENGLISH_MIN_PROBABILITY else "fr"

    def rank(self, text: str, top: int = 3) -> list[tuple[str, float]]:
        """The ``top`` most probable intents, best first."""
        if self.intents is None:
            return [(OUT_OF_SCOPE, 1.0)]
        return self.intents.rank(text, top=top)


@dataclass
class Parse:
    """What the bot understood from one line."""

    text: str
    intent: str
    confidence: float
    ranking: list[tuple[str, float]]
    entities: dict[str, Any] = field(default_factory=dict)
    language: str = "fr"

    @property
    def understood(self) -> bool:
        """False when the bot falls back."""
        return self.intent != OUT_OF_SCOPE

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``ticketbot parse``."""
        return {
            "text": self.text,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "ranking": [{"intent": name, "score": round(score, 4)} for name, score in self.ranking],
            "entities": self.entities,
            "language": self.language,
        }
