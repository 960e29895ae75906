"""Saving and loading model files with the manifest that vouches for them.

A model file is plain data (:mod:`ticketbot.ml.codec`): :func:`load_model` reads only a file
whose SHA-256 matches its manifest and whose format and analyzers this ticketbot knows, with
an unpickler that builds no class at all, then checks the whole structure before making the
model. What prediction depends on is the model format and the analyzer version, not the
scikit-learn that trained the model: the manifest records the training versions
(``trained_with``) as provenance only.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ticketbot.ml.text import ANALYZER_VERSION

MANIFEST_FORMAT = 2
MODEL_TYPES = {"department": "linear_text_classifier", "intent": "intent_model"}
"""What the plain data of each kind of model must be."""


class ModelError(Exception):
    """A model file is missing, altered, not a model, or made for another format.

    The message always says what to do (usually: which ``ticketbot train`` command to run).
    """


def retrain_command(kind: str, path: Path) -> str:
    """The command that rebuilds the model file ``path`` of ``kind`` ("department",
    "intent"): the shipped ones come with ticketbot, the others are the user's."""
    from ticketbot.paths import shipped_model

    path = Path(path)
    if path.resolve() == shipped_model(kind).resolve():
        return "make models"  # in a checkout; an installed ticketbot is reinstalled
    data = " --data YOUR_TICKETS.csv" if kind == "department" else ""
    return f"ticketbot train {kind}{data} --out {path}"


def manifest_path(model_path: Path) -> Path:
    """The manifest that describes ``model_path`` (same name, ``.json``)."""
    return Path(model_path).with_suffix(".json")


def installed_version(distribution: str) -> str | None:
    """Version of an installed distribution, read from its metadata (no import)."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def model_state(model: Any) -> dict[str, Any]:
    """A model (a classifier, or an object with ``to_state()``) as the plain data of a file."""
    from ticketbot.ml.codec import FORMAT_VERSION
    from ticketbot.ml.linear import LinearTextClassifier, classifier_state

    if isinstance(model, LinearTextClassifier):
        state = {"type": "linear_text_classifier", **classifier_state(model)}
    else:
        state = model.to_state()
    return {"format": FORMAT_VERSION, **state}


def save_model(model: Any, path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Save ``model`` as plain data to ``path`` and write its manifest beside it.

    ``manifest`` carries what the caller knows (kind, labels, data hash, CV figures...); this
    function adds the file name and hash, the model format and analyzer versions, the library
    versions that trained it (provenance) and the save date, and returns the complete
    manifest. Both files are replaced atomically.
    """
    from ticketbot.ml.codec import FORMAT_VERSION, dumps

    path = Path(path)
    payload = dumps(model_state(model))
    full = _complete_manifest(manifest, payload, path.name, FORMAT_VERSION)
    _write_atomically(path, payload)
    text = json.dumps(full, indent=2, ensure_ascii=False) + "\n"
    _write_atomically(manifest_path(path), text.encode("utf-8"))
    return full


def _complete_manifest(
    manifest: dict[str, Any], payload: bytes, file_name: str | None, model_format: int
) -> dict[str, Any]:
    sha256 = hashlib.sha256(payload).hexdigest()
    full = {
        "format": MANIFEST_FORMAT,
        **manifest,
        **({"model_file": file_name} if file_name else {}),
        "sha256": sha256,
        "model_format": model_format,
        "analyzer_version": ANALYZER_VERSION,
        "trained_with": {
            "scikit-learn": installed_version("scikit-learn"),
            "numpy": installed_version("numpy"),
            "python": platform.python_version(),
        },
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    full.setdefault("version", f"{manifest.get('kind', 'model')}-{stamp}-{sha256[:8]}")
    return full


def read_manifest(model_path: Path) -> dict[str, Any]:
    """Read the manifest of ``model_path``; :class:`ModelError` if missing or unreadable."""
    path = manifest_path(model_path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no manifest {path} beside the model file") from None
    except (OSError, ValueError) as error:
        raise ModelError(f"manifest {path} is unreadable: {error}") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"manifest {path} is not a JSON object")
    return manifest


def verify_model_file(path: Path, *, kind: str, retrain: str) -> tuple[bytes, dict[str, Any]]:
    """Check a model file against its manifest without unpickling it.

    ``kind`` is the expected manifest ``kind`` ("department", "intent"); ``retrain`` is the
    command that rebuilds the model, quoted in every error so the user knows what to do.
    Returns the file's bytes and its manifest. Raises :class:`ModelError` when the file is
    missing, its manifest is missing or of another kind, its hash differs, or it is in
    another model format or was made with other analyzers.
    """
    path = Path(path)
    fix = f"Run `{retrain}` to rebuild it."
    if not path.is_file():
        raise ModelError(f"model file {path} not found. {fix}")
    try:
        manifest = read_manifest(path)
    except ModelError as error:
        raise ModelError(f"{error}. {fix}") from None
    if manifest.get("kind") == kind and manifest.get("model_file") != path.name:
        raise ModelError(f"manifest of {path} describes {manifest.get('model_file')!r}. {fix}")
    payload = path.read_bytes()
    verify_payload(payload, manifest, kind=kind, where=str(path), fix=f" {fix}")
    return payload, manifest


def _builder(state_type: Any) -> Any:
    from ticketbot.ml.linear import classifier_from_state
    from ticketbot.nlu.model import IntentModel

    builders = {
        "linear_text_classifier": classifier_from_state,
        "intent_model": IntentModel.from_state,
    }
    return builders.get(state_type)


def load_model(path: Path, *, kind: str, retrain: str) -> tuple[Any, dict[str, Any]]:
    """Load a model after :func:`verify_model_file`: plain data only, every part checked
    before the model is made. Anything else is refused with a :class:`ModelError`."""
    payload, manifest = verify_model_file(path, kind=kind, retrain=retrain)
    return model_from_payload(payload, kind=kind, where=str(path), retrain=retrain), manifest


def verify_payload(
    payload: bytes, manifest: dict[str, Any], *, kind: str, where: str, fix: str = ""
) -> None:
    """Check model bytes against their manifest: kind, SHA-256, model format and analyzers.
    :class:`ModelError` names ``where`` the model came from (a file, a stored version) and
    ends with ``fix``."""
    from ticketbot.ml.codec import FORMAT_VERSION

    if manifest.get("kind") != kind:
        raise ModelError(f"{where} is a {manifest.get('kind')!r} model, not a {kind!r} model.{fix}")
    if hashlib.sha256(payload).hexdigest() != manifest.get("sha256"):
        raise ModelError(
            f"{where} does not match the SHA-256 in its manifest: it was modified or replaced, "
            f"so it is not loaded.{fix}"
        )
    if manifest.get("model_format") != FORMAT_VERSION:
        raise ModelError(
            f"{where} is in model format {manifest.get('model_format')!r}, and this ticketbot "
            f"reads format {FORMAT_VERSION}.{fix}"
        )
    if manifest.get("analyzer_version") != ANALYZER_VERSION:
        raise ModelError(f"{where} was made by another version of ticketbot's analyzers.{fix}")


def model_from_payload(payload: bytes, *, kind: str, where: str, retrain: str) -> Any:
    """The model in verified ``payload`` bytes, read as plain data with every part checked
    before the model is made (:class:`ModelError` otherwise)."""
    from ticketbot.ml.codec import InvalidModelData, Schema, loads

    try:
        state = loads(payload)
        expected = MODEL_TYPES.get(kind)
        if expected is not None and state.get("type") != expected:
            raise InvalidModelData(f"a {kind} model is a {expected}, not {state.get('type')!r:.40}")
        build = _builder(state.get("type"))
        if build is None:
            raise InvalidModelData(f"unknown model type {state.get('type')!r:.40}")
        return build(Schema(state, "model"))
    except InvalidModelData as error:
        raise ModelError(f"{where} is refused: {error}. Run `{retrain}` to rebuild it.") from None


def model_payload(model: Any, manifest: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The bytes of ``model`` and its complete manifest, as :func:`save_model` writes them, for
    storing elsewhere than in a file."""
    from ticketbot.ml.codec import FORMAT_VERSION, dumps

    payload = dumps(model_state(model))
    return payload, _complete_manifest(manifest, payload, None, FORMAT_VERSION)
