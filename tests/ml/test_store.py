"""Model files: pickle round trip, and refusal of anything that does not match its manifest."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from ticketbot.api.classifier import DepartmentClassifier
from ticketbot.ml.store import ModelError, load_model, save_model
from ticketbot.paths import shipped_model


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A copy of the shipped department model and its manifest."""
    source = shipped_model("department")
    shutil.copy(source, tmp_path / "department.pkl")
    shutil.copy(source.with_suffix(".json"), tmp_path / "department.json")
    return tmp_path / "department.pkl"


def test_round_trip_gives_identical_predictions(model_copy: Path, tmp_path: Path):
    model, manifest = load_model(model_copy, kind="department", retrain="x")
    again = save_model(
        model, tmp_path / "again" / "m.pkl", {"kind": "department", "labels": manifest["labels"]}
    )
    reloaded, _ = load_model(tmp_path / "again" / "m.pkl", kind="department", retrain="x")
    text = "Le chauffage ne marche plus au 3e étage"
    assert np.array_equal(model.predict_proba(text), reloaded.predict_proba(text))
    assert again["sha256"] == manifest["sha256"]  # saving is deterministic
    assert again["model_format"] == manifest["model_format"] == 2


def test_shipped_manifest_describes_the_model():
    manifest = json.loads(shipped_model("department").with_suffix(".json").read_text())
    assert manifest["labels"] == sorted(["IT", "HR", "Finance", "Facilities", "Legal"])
    assert manifest["data"]["rows"] >= 500
    assert len(manifest["data"]["sha256"]) == 64
    assert 0 < manifest["cv"]["accuracy"] <= 1 and 0 < manifest["cv"]["macro_f1"] <= 1
    assert manifest["trained_at"] and manifest["trained_with"]["scikit-learn"]


def test_modified_file_is_refused(model_copy: Path):
    data = bytearray(model_copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    model_copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"SHA-256.*ticketbot train department"):
        DepartmentClassifier.load(model_copy)


def test_the_training_versions_are_provenance_only(model_copy: Path):
    manifest_file = model_copy.with_suffix(".json")
    manifest = json.loads(manifest_file.read_text())
    manifest["trained_with"] = {"scikit-learn": "0.24.2", "numpy": "1.19.0", "python": "3.8"}
    manifest_file.write_text(json.dumps(manifest))
    assert DepartmentClassifier.load(model_copy).route("imprimante en panne").department == "IT"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("model_format", 1, r"model format 1"), ("analyzer_version", 4, "analyzers")],
)
def test_another_format_or_analyzer_is_refused(model_copy: Path, field, value, message):
    manifest_file = model_copy.with_suffix(".json")
    manifest = json.loads(manifest_file.read_text())
    manifest[field] = value
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=rf"{message}.*ticketbot train department"):
        DepartmentClassifier.load(model_copy)


def test_prediction_never_imports_scikit_learn(model_copy: Path):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from ticketbot.api.classifier import DepartmentClassifier\n"
        f"c = DepartmentClassifier.load({str(model_copy)!r})\n"
        "c.route('imprimante en panne')\n"
        "assert not [m for m in sys.modules if m.startswith('sklearn')], 'sklearn imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_missing_manifest_or_file_is_refused(model_copy: Path, tmp_path: Path):
    with pytest.raises(ModelError, match="not found"):
        DepartmentClassifier.load(tmp_path / "nope.pkl")
    model_copy.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match="no manifest"):
        DepartmentClassifier.load(model_copy)


def test_model_of_another_kind_is_refused(model_copy: Path):
    with pytest.raises(ModelError, match="not a 'intent' model"):
        load_model(model_copy, kind="intent", retrain="ticketbot train intent")


class _Exploit:
    """Unpickling this would run a shell command."""

    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/ticketbot-pwned",))


def test_tampered_pickle_with_matching_manifest_cannot_run_code(model_copy: Path, tmp_path: Path):
    """Even an attacker who rewrites the manifest to match cannot get code run."""
    marker = Path("/tmp/ticketbot-pwned")
    marker.unlink(missing_ok=True)
    payload = pickle.dumps(_Exploit())
    model_copy.write_bytes(payload)
    manifest_file = model_copy.with_suffix(".json")
    manifest = json.loads(manifest_file.read_text())
    import hashlib

    manifest["sha256"] = hashlib.sha256(payload).hexdigest()
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="(os|posix).system; model files hold plain data"):
        DepartmentClassifier.load(model_copy)
    assert not marker.exists()
