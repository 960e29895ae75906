"""Crafted model files with a matching manifest (an attacker who controls both files): each
is refused with one clear ModelError, never a crash, a traceback, a hang or code run."""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from ticketbot.api.classifier import DepartmentClassifier
from ticketbot.ml import codec
from ticketbot.ml.store import ModelError, model_state
from ticketbot.paths import shipped_model


@pytest.fixture(scope="module")
def shipped_state():
    model = DepartmentClassifier.load(shipped_model("department")).model
    return model_state(model)


def _install(tmp_path: Path, payload: bytes) -> Path:
    """A department model file holding ``payload``, with a manifest that matches it."""
    source = shipped_model("department")
    path = tmp_path / "department.pkl"
    path.write_bytes(payload)
    manifest = json.loads(source.with_suffix(".json").read_text())
    manifest["sha256"] = hashlib.sha256(payload).hexdigest()
    path.with_suffix(".json").write_text(json.dumps(manifest))
    return path


def _assert_refused(tmp_path: Path, payload: bytes) -> str:
    path = _install(tmp_path, payload)
    with pytest.raises(ModelError) as refusal:
        DepartmentClassifier.load(path)
    message = str(refusal.value)
    assert "is refused" in message and "ticketbot train department" in message
    return message


def test_the_numpy_dtype_with_object_fields_trick_is_refused(tmp_path: Path):
    # An allowed-looking global whose state declares an object field over raw bytes: the old
    # allow-list loader dereferenced the forged pointer (segmentation fault).
    forged = np.dtype([("x", "O")])
    payload = pickle.dumps({"format": 2, "type": "linear_text_classifier", "dtype": forged})
    assert "numpy" in _assert_refused(tmp_path, payload)


@pytest.mark.parametrize(
    "thing",
    [
        [1, 2, 3],
        "model",
        42,
        None,
        np.dtype,
        {"format": 1},
        {"format": 2},
        {"format": 2, "type": 3},
    ],
    ids=["list", "str", "int", "none", "dtype class", "old format", "no type", "bad type"],
)
def test_objects_that_are_not_models_are_refused(tmp_path: Path, thing):
    _assert_refused(tmp_path, pickle.dumps(thing))


def test_an_intent_model_is_not_a_department_model(tmp_path: Path, shipped_state):
    _assert_refused(tmp_path, codec.dumps({**shipped_state, "type": "intent_model"}))


@pytest.mark.parametrize("size", [0, 1, 100, 10_000])
def test_truncated_files_are_refused(tmp_path: Path, shipped_state, size):
    _assert_refused(tmp_path, codec.dumps(shipped_state)[:size])


def _with(state, path, value):
    """A deep copy of ``state`` with the field at ``path`` replaced by ``value``."""
    state = pickle.loads(pickle.dumps(state))
    target = state
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return state


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("blocks", 0, "idf", "shape"), [10**12]),
        (("blocks", 0, "idf", "shape"), [-1]),
        (("blocks", 0, "idf", "dtype"), "object"),
        (("blocks", 0, "idf", "data"), b"\x00" * 8),
        (("heads", 0, "coef", "shape"), [3, 3]),
        (("blocks", 0, "vocabulary"), {"a": 10**9}),
        (("blocks", 0, "offset"), 7),
        (("blocks", 0, "analyzer", "kind"), "exec"),
        (("blocks", 0, "analyzer", "ngram_min"), 0),
        (("blocks", 0, "weight"), float("nan")),
        (("classes",), []),
        (("classes",), ["IT", "IT", "HR", "Legal", "Finance"]),
        (("heads",), []),
        (("blocks",), "nope"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_absurd_or_inconsistent_structures_are_refused(tmp_path: Path, shipped_state, path, value):
    _assert_refused(tmp_path, codec.dumps(_with(shipped_state, path, value)))


def test_random_byte_flips_are_refused_or_load_a_checked_model(tmp_path: Path, shipped_state):
    """Every flipped file either is refused cleanly or loads as a model that passed every
    structural check (a flip inside a float changes a weight, not the structure)."""
    payload = bytearray(codec.dumps(shipped_state))
    rng = random.Random(20261201)
    outcomes = {"refused": 0, "loaded": 0}
    for trial in range(60):
        flipped = bytearray(payload)
        for _ in range(rng.randint(1, 8)):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        directory = tmp_path / str(trial)
        directory.mkdir()
        path = _install(directory, bytes(flipped))
        try:
            classifier = DepartmentClassifier.load(path)
        except ModelError as error:
            assert "is refused" in str(error)
            outcomes["refused"] += 1
            continue
        assert classifier.route("imprimante en panne").department in classifier.labels
        outcomes["loaded"] += 1
    assert outcomes["refused"] > 0


def test_a_valid_state_loads(tmp_path: Path, shipped_state):
    path = _install(tmp_path, codec.dumps(shipped_state))
    assert DepartmentClassifier.load(path).route("imprimante en panne").department == "IT"
    shutil.rmtree(tmp_path)
