"""Saving and loading pickled models with the manifest that vouches for them.

A pickle runs code when it is loaded, so :func:`load_model` only unpickles a file whose
SHA-256 and scikit-learn version match its manifest, and even then through an unpickler that
can build nothing but numpy arrays and ticketbot's own model classes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import platform
import tempfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ticketbot.ml.text import ANALYZER_VERSION

MANIFEST_FORMAT = 1

# (module, name) pairs the model unpickler may build. Anything else is refused.
_ALLOWED_GLOBALS = {
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "scalar"),
    ("ticketbot.ml.text", "Analyzer"),
    ("ticketbot.ml.linear", "TfidfBlock"),
    ("ticketbot.ml.linear", "LinearHead"),
    ("ticketbot.ml.linear", "LinearTextClassifier"),
    ("ticketbot.nlu.model", "IntentModel"),
}


class ModelError(Exception):
    """A model file is missing, altered, or made for other library versions.

    The message always says what to do (usually: which ``ticketbot train`` command to run).
    """


class _ModelUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"model file wants to build {module}.{name}, which a model never contains"
            )
        return super().find_class(module, name)


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


def save_model(model: Any, path: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Pickle ``model`` to ``path`` and write its manifest beside it.

    ``manifest`` carries what the caller knows (kind, labels, data hash, CV figures...); this
    function adds the file name and hash, library versions and the save date, and returns the
    complete manifest. Both files are replaced atomically.
    """
    path = Path(path)
    payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    sha256 = hashlib.sha256(payload).hexdigest()
    full = {
        "format": MANIFEST_FORMAT,
        **manifest,
        "model_file": path.name,
        "sha256": sha256,
        "sklearn_version": installed_version("scikit-learn"),
        "numpy_version": installed_version("numpy"),
        "python_version": platform.python_version(),
        "analyzer_version": ANALYZER_VERSION,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    full.setdefault("version", f"{manifest.get('kind', 'model')}-{stamp}-{sha256[:8]}")
    _write_atomically(path, payload)
    text = json.dumps(full, indent=2, ensure_ascii=False) + "\n"
    _write_atomically(manifest_path(path), text.encode("utf-8"))
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
    missing, its manifest is missing or of another kind, its hash differs, or it was made
    with another scikit-learn version.
    """
    path = Path(path)
    fix = f"Run `{retrain}` to rebuild it."
    if not path.is_file():
        raise ModelError(f"model file {path} not found. {fix}")
    try:
        manifest = read_manifest(path)
    except ModelError as error:
        raise ModelError(f"{error}. {fix}") from None
    if manifest.get("kind") != kind:
        raise ModelError(f"{path} is a {manifest.get('kind')!r} model, not a {kind!r} model. {fix}")
    if manifest.get("model_file") != path.name:
        raise ModelError(f"manifest of {path} describes {manifest.get('model_file')!r}. {fix}")
    payload = path.read_bytes()
    if hashlib.sha256(payload).hexdigest() != manifest.get("sha256"):
        raise ModelError(
            f"{path} does not match the SHA-256 in its manifest: the file was modified or "
            f"replaced, so it is not loaded. {fix}"
        )
    installed = installed_version("scikit-learn")
    if manifest.get("sklearn_version") != installed:
        raise ModelError(
            f"{path} was trained with scikit-learn {manifest.get('sklearn_version')} but "
            f"{installed} is installed. {fix}"
        )
    if manifest.get("analyzer_version") != ANALYZER_VERSION:
        raise ModelError(f"{path} was made by another version of ticketbot's analyzers. {fix}")
    return payload, manifest


def load_model(path: Path, *, kind: str, retrain: str) -> tuple[Any, dict[str, Any]]:
    """Load a model after :func:`verify_model_file`, with the restricted unpickler."""
    payload, manifest = verify_model_file(path, kind=kind, retrain=retrain)
    try:
        model = _ModelUnpickler(io.BytesIO(payload)).load()
    except Exception as error:  # noqa: BLE001 - any unpickling failure means "refuse"
        raise ModelError(
            f"{path} could not be loaded ({error}). Run `{retrain}` to rebuild it."
        ) from None
    return model, manifest
