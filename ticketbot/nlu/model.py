"""The intent model and what parsing a line gives."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ticketbot.intents import OUT_OF_SCOPE

if TYPE_CHECKING:  # numpy loads with the model, not with this module (shell start-up)
    from ticketbot.ml.linear import LinearTextClassifier

# The language classifier must be this sure for a line to set the conversation's language;
# in between, the line carries no language signal and the conversation keeps its language.
LANGUAGE_MIN_PROBABILITY = 0.75
# Words said the same way in French and English office chat: they never set a language.
NEUTRAL_WORDS = frozenset(
    """
    ticket tickets tiket ok okay oki test tests vpn wifi wi fi pc mac sap erp crm it rh hr
    badge info infos stop urgent teams outlook excel word powerpoint windows office email
    mail mails e-mail bug bugs super top cool bravo go taxi parking id ids no
    n° nr # internet web site app apps login logout password zoom slack jira iphone android
    """.split()
)
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass
class IntentModel:
    """The pickled intent model: intent classifier, language classifier, fallback rule.

    The bot acts on its best intent when that intent's probability reaches ``threshold``, or
    when the probability that the line is off-topic is at most ``off_topic_ceiling`` (the
    line is clearly about tickets, but two intents share the probability: "annule ma demande
    5" between deleting and closing). Both are chosen at training time from cross-validated
    predictions (see ``ticketbot.nlu.training``); a ceiling of 0 turns the second way off.
    """

    intents: LinearTextClassifier | None
    language: LinearTextClassifier | None
    threshold: float
    off_topic_ceiling: float = 0.0

    def understand(self, text: str, top: int = 3) -> tuple[list[tuple[str, float]], bool]:
        """The ``top`` most probable intents of ``text``, best first, and whether the bot
        acts on the best one (see the class's doc); the classifier runs once."""
        if self.intents is None:
            return [(OUT_OF_SCOPE, 1.0)], False
        import numpy as np

        probabilities = self.intents.predict_proba(text)
        classes = self.intents.classes
        order = np.argsort(-probabilities, kind="stable")[:top]
        ranking = [(classes[i], float(probabilities[i])) for i in order]
        best, confidence = ranking[0]
        if best == OUT_OF_SCOPE:
            return ranking, False
        if confidence >= self.threshold:
            return ranking, True
        if self.off_topic_ceiling <= 0.0 or OUT_OF_SCOPE not in classes:
            return ranking, False
        off_topic = float(probabilities[classes.index(OUT_OF_SCOPE)])
        return ranking, off_topic <= self.off_topic_ceiling

    def to_state(self) -> dict[str, Any]:
        """The model as plain data (see :mod:`ticketbot.ml.codec`)."""
        from ticketbot.ml.linear import classifier_state

        return {
            "type": "intent_model",
            "intents": classifier_state(self.intents) if self.intents is not None else None,
            "language": classifier_state(self.language) if self.language is not None else None,
            "threshold": float(self.threshold),
            "off_topic_ceiling": float(self.off_topic_ceiling),
        }

    @classmethod
    def from_state(cls, data: Any) -> IntentModel:
        """The model rebuilt from plain data, every part checked first."""
        from ticketbot.ml.codec import InvalidModelData
        from ticketbot.ml.linear import classifier_from_state

        intents, language = data.optional_schema("intents"), data.optional_schema("language")
        threshold = data.float("threshold")
        # Models trained before the second rule have no ceiling: threshold only.
        ceiling = data.float("off_topic_ceiling") if "off_topic_ceiling" in data.data else 0.0
        for name, value in (("threshold", threshold), ("off_topic_ceiling", ceiling)):
            if not 0.0 <= value <= 1.0:
                raise InvalidModelData(f"{data.where}.{name}: expected a number from 0 to 1")
        return cls(
            classifier_from_state(intents) if intents else None,
            classifier_from_state(language) if language else None,
            threshold,
            ceiling,
        )

    def detect_language(self, text: str) -> str | None:
        """``"fr"`` or ``"en"`` when the line says which, else None (numbers, "ticket 8",
        "ok", product names: words shared by both languages carry no signal)."""
        if self.language is None:
            return None
        words = [w for w in _TOKEN.findall(text.casefold()) if w not in NEUTRAL_WORDS]
        if not words:
            return None
        probabilities = dict(
            zip(self.language.classes, self.language.predict_proba(" ".join(words)), strict=True)
        )
        english = probabilities.get("en", 0.0)
        if english >= LANGUAGE_MIN_PROBABILITY:
            return "en"
        if english <= 1 - LANGUAGE_MIN_PROBABILITY:
            return "fr"
        return None


@dataclass
class Parse:
    """What the bot understood from one line."""

    text: str
    intent: str
    confidence: float
    ranking: list[tuple[str, float]]
    entities: dict[str, Any] = field(default_factory=dict)
    language: str = "fr"
    language_detected: bool = True
    """False when the line carried no language signal and ``language`` is the
    conversation's."""

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
