"""The department classifier as the API uses it: where a text goes, and whether an agent
should check it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketbot.ml.linear import LinearTextClassifier
from ticketbot.ml.store import load_model, retrain_command
from ticketbot.ml.text import normalize

DEFAULT_REVIEW_THRESHOLD = 0.5
"""For models whose manifest records no review threshold (trained before it was chosen)."""

# Words that say nothing about where a ticket goes: greetings, politeness, fillers, words
# for "ticket" or "problem", tests. A text made only of these (and of words the model has
# never seen) has nothing to route, whatever confidence the model gives it.
NOTHING_TO_ROUTE = frozenset(
    """
    bonjour bonsoir salut coucou hello hi hey allo merci thanks thank thx please pls plz stp
    svp ok okay oki oui non yes no test tests testing essai essais ticket tickets demande
    demandes request requests probleme problemes problem problems issue issues souci soucis
    pb aide help urgent urgence asap question questions info infos information
    incident incidents truc machin chose thing stuff something quelque rien nothing
    le la les un une des de du d l a au aux et ou en est c ce ca cela the an and or of to is
    it je j tu il on nous vous my mon ma mes i you we me moi toi bien bon good
    cordialement regards cheers bye revoir va vas aller marche marcher marchent fonctionne
    fonctionner fonctionnent work works working worked plus pas ne n y qu que qui quoi
    what who why how comment pourquoi quand when where ou fait faire faut peux peut pouvez
    can could do does did done ai as avons avez ont suis es sommes etes sont have has had
    am are was were be been encore again toujours still depuis since alors so donc really
    vraiment tres very trop too beaucoup lot casse cassee broken panne hs bloque bloquee
    stuck down
    """.split()
)
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Routing:
    """Where a text goes: the best department, its probability, the top 3, and whether an
    agent should check it (``needs_review``)."""

    department: str
    confidence: float
    ranking: list[dict[str, Any]]
    needs_review: bool
    model_version: str = ""


class DepartmentClassifier:
    """A loaded department model and its manifest.

    ``review_threshold`` overrides the one chosen at training time (recorded in the
    manifest); routings under it are flagged ``needs_review``.
    """

    def __init__(
        self,
        model: LinearTextClassifier,
        manifest: dict[str, Any],
        review_threshold: float | None = None,
    ) -> None:
        self.model = model
        self.manifest = manifest
        self.review_threshold = (
            review_threshold if review_threshold is not None else self.trained_review_threshold
        )
        self._vocabulary = next(
            (b.vocabulary for b in model.blocks if b.analyzer.kind == "word"), None
        )

    @classmethod
    def load(cls, path: Path, review_threshold: float | None = None) -> DepartmentClassifier:
        """Load and verify a model file; raises ``ModelError`` with what to do."""
        model, manifest = load_model(
            path, kind="department", retrain=retrain_command("department", path)
        )
        return cls(model, manifest, review_threshold)

    @classmethod
    def from_settings(cls, settings: Any, path: Path | None = None) -> DepartmentClassifier:
        """The classifier an API with ``settings`` uses (``path`` instead of the configured
        model file, if given), with the configured review threshold, if any."""
        return cls.load(path or settings.department_model, settings.review_threshold)

    @property
    def version(self) -> str:
        """The model version recorded on every ticket it labels."""
        return str(self.manifest["version"])

    @property
    def labels(self) -> list[str]:
        """The departments it can choose."""
        return list(self.model.classes)

    @property
    def trained_review_threshold(self) -> float:
        """The review threshold chosen at training time from the model's cross-validated
        errors (see ``ticketbot.ml.training.REVIEW_RULE``)."""
        review = self.manifest.get("review") or {}
        return float(review.get("threshold", DEFAULT_REVIEW_THRESHOLD))

    def has_something_to_route(self, text: str) -> bool:
        """False for texts such as "bonjour", "ok", "test" or gibberish: no word the model
        knows that says anything about a department."""
        words = (w for w in _WORD.findall(normalize(text)) if w not in NOTHING_TO_ROUTE)
        if self._vocabulary is None:
            return any(True for _ in words)
        return any(w in self._vocabulary for w in words)

    def route(self, text: str) -> Routing:
        """Classify ``text`` (usually the title, a newline and the description)."""
        ranking = self.model.rank(text, top=3)
        confidence = round(ranking[0][1], 4)
        return Routing(
            department=ranking[0][0],
            confidence=confidence,
            ranking=[{"department": label, "score": round(score, 4)} for label, score in ranking],
            needs_review=confidence < self.review_threshold
            or not self.has_something_to_route(text),
            model_version=self.version,
        )

    def info(self) -> dict[str, Any]:
        """Manifest figures shown by /health and ``ticketbot models``."""
        cv = self.manifest.get("cv") or {}
        data = self.manifest.get("data") or {}
        return {
            "version": self.version,
            "labels": self.labels,
            "trained_at": self.manifest.get("trained_at"),
            "rows": data.get("rows"),
            "cv_accuracy": cv.get("accuracy"),
            "cv_macro_f1": cv.get("macro_f1"),
            "review_threshold": self.review_threshold,
        }


def review_figures(
    routings: list[Routing], labels: list[str], threshold: float
) -> dict[str, float | int]:
    """How well ``needs_review`` catches routing errors on labelled texts: the share of
    tickets flagged and the share of wrongly routed ones among them."""
    wrong = [r.department != label for r, label in zip(routings, labels, strict=True)]
    flagged = [r.needs_review for r in routings]
    errors = sum(wrong)
    return {
        "threshold": threshold,
        "flagged": round(sum(flagged) / max(len(flagged), 1), 4),
        "errors": errors,
        "errors_flagged": round(
            sum(f and w for f, w in zip(flagged, wrong, strict=True)) / errors, 4
        )
        if errors
        else 1.0,
    }
