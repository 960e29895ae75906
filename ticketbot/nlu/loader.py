"""Finding the intent model that matches the registered intents, retraining it if needed.

The shipped model (``trained_models/intent.pkl``) is used while the registered intents and
their examples are the ones it was trained on. When plugins add or remove intents, a model is
trained for the new set into the user's data directory (``models/intent-<key>.pkl``, keyed
by what it was trained on, so switching back and forth does not retrain again); the shipped
model is never modified.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ticketbot.intents import OUT_OF_SCOPE, IntentRegistry
from ticketbot.ml.store import ModelError, load_model, read_manifest, retrain_command
from ticketbot.ml.training import Progress
from ticketbot.nlu.model import IntentModel
from ticketbot.nlu.training import Row, collect_rows, train_intent_model, training_key
from ticketbot.paths import data_dir, shipped_model

RETRAIN_INTENT = "ticketbot train intent"
KEPT_USER_MODELS = 5


@dataclass
class IntentModelChoice:
    """The intent model to use and why."""

    model: IntentModel
    manifest: dict[str, Any]
    path: Path | None
    retrained: bool = False
    seconds: float = 0.0
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()

    def notice(self) -> str | None:
        """What the user should know, one line each (French / English), or None."""
        lines = [f"Modèle refusé / model refused: {reason}" for reason in self.refused]
        if self.retrained:
            lines.append(self._retrained())
        return "\n".join(lines) or None

    def _retrained(self) -> str:
        change = ", ".join([f"+{n}" for n in self.added] + [f"-{n}" for n in self.removed])
        change = f" ({change})" if change else ""
        return (
            f"Intentions modifiées{change} : modèle d'intentions réentraîné en "
            f"{self.seconds:.1f} s. / Intents changed{change}: intent model retrained in "
            f"{self.seconds:.1f} s ({self.path})."
        )


def load_intent_model(path: Path) -> tuple[IntentModel, dict[str, Any]]:
    """Load and verify an intent model file; :class:`ModelError` says what to do."""
    return load_model(path, kind="intent", retrain=retrain_command("intent", path))


def user_models_dir() -> Path:
    """Where retrained intent models go."""
    return data_dir() / "models"


def user_model_path(rows: list[Row]) -> Path:
    """The user-directory model file for these training rows."""
    return user_models_dir() / f"intent-{training_key(rows)[:16]}.pkl"


def resolve_intent_model(
    registry: IntentRegistry,
    explicit: Path | None = None,
    progress: Progress | None = None,
    train: bool = True,
) -> IntentModelChoice:
    """The intent model for ``registry``: ``explicit`` if given, else a matching trained model,
    else a new one trained now into the user's data directory (unless ``train`` is false:
    then :class:`ModelError`)."""
    if explicit is not None:
        model, manifest = load_intent_model(explicit)
        return IntentModelChoice(model, manifest, explicit)
    if len(registry) == 0:
        # No plugin offers anything: every line falls back.
        return IntentModelChoice(IntentModel(None, None, 1.0), {"labels": [OUT_OF_SCOPE]}, None)
    rows = collect_rows(registry)
    key = training_key(rows)
    refused = []
    for path in (shipped_model("intent"), user_model_path(rows)):
        try:
            if not path.exists() or read_manifest(path).get("training_key") != key:
                continue
            model, manifest = load_intent_model(path)
        except ModelError as error:
            # Never unpickled; a model is trained for these intents instead.
            refused.append(str(error))
            continue
        return IntentModelChoice(model, manifest, path, refused=tuple(refused))
    out = user_model_path(rows)
    if not train:
        raise ModelError(
            "no trained intent model matches the installed plugins yet; `ticketbot shell` or "
            f"`ticketbot parse` trains one on first use, or run `{RETRAIN_INTENT}`"
        )
    started = time.perf_counter()
    manifest = train_intent_model(rows, out, source="registered plugins", progress=progress)
    seconds = time.perf_counter() - started
    model, manifest = load_intent_model(out)
    _prune(out)
    before = set(_shipped_intents())
    after = set(registry.names())
    return IntentModelChoice(
        model,
        manifest,
        out,
        retrained=True,
        seconds=seconds,
        added=tuple(sorted(after - before)),
        removed=tuple(sorted(before - after)),
        refused=tuple(refused),
    )


def _shipped_intents() -> list[str]:
    try:
        labels = read_manifest(shipped_model("intent")).get("labels", [])
    except ModelError:
        return []
    return [label for label in labels if label != OUT_OF_SCOPE]


def _prune(keep: Path) -> None:
    """Keep the few most recently used retrained models."""
    models = sorted(
        user_models_dir().glob("intent-*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in models[KEPT_USER_MODELS:]:
        if old != keep:
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)
