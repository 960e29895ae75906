"""The department classifier as the API uses it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketbot.ml.linear import LinearTextClassifier
from ticketbot.ml.store import load_model

RETRAIN_DEPARTMENT = "ticketbot train department"


@dataclass(frozen=True)
class Routing:
    """Where a text goes: the best department, its probability and the top 3."""

    department: str
    confidence: float
    ranking: list[dict[str, Any]]


class DepartmentClassifier:
    """A loaded department model and its manifest."""

    def __init__(self, model: LinearTextClassifier, manifest: dict[str, Any]) -> None:
        self.model = model
        self.manifest = manifest

    @classmethod
    def load(cls, path: Path) -> DepartmentClassifier:
        """Load and verify a model file; raises ``ModelError`` with what to do."""
        model, manifest = load_model(path, kind="department", retrain=RETRAIN_DEPARTMENT)
        return cls(model, manifest)

    @property
    def version(self) -> str:
        """The model version recorded on every ticket it labels."""
        return str(self.manifest["version"])

    @property
    def labels(self) -> list[str]:
        """The departments it can choose."""
        return list(self.model.classes)

    def route(self, text: str) -> Routing:
        """Classify ``text`` (usually the title, a newline and the description)."""
        ranking = self.model.rank(text, top=3)
        return Routing(
            department=ranking[0][0],
            confidence=round(ranking[0][1], 4),
            ranking=[{"department": label, "score": round(score, 4)} for label, score in ranking],
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
        }
