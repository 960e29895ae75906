"""Model files that cannot hurt: models as plain data, checked before anything is built.

A pickle runs code when it is loaded, and an allow-list of classes is not enough: numpy's own
``dtype`` can declare object fields over raw bytes, so a crafted file made only of allowed
globals can make the loader dereference forged pointers. So a model file holds no class at
all. It is a pickle of builtins only (``dict``, ``list``, ``str``, ``int``, ``float``,
``bool``, ``None``, ``bytes``), read by an unpickler that refuses every global; arrays are
``{"dtype", "shape", "data"}`` records rebuilt with :func:`numpy.frombuffer` from an
allow-list of numeric dtypes, after their shape and size are checked. The whole structure is
validated (:class:`Schema` errors name the faulty field) before a model object is made.
"""

from __future__ import annotations

import io
import math
import pickle
from typing import Any

import numpy as np

FORMAT_VERSION = 2
"""Version of the model file format (the layout of the plain data)."""

DTYPES = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8"), "int64": np.dtype("<i8")}
"""The only array element types a model file may hold (little-endian, no objects)."""

MAX_ELEMENTS = 200_000_000
"""No array of a model may be larger (the shipped ones hold a few million numbers)."""


class InvalidModelData(ValueError):
    """A model file's content is not a model; the message names the field at fault."""


class _NoGlobalsUnpickler(pickle.Unpickler):
    """Builds builtins only: any class or function the file names is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(
            f"model file wants to build {module}.{name}; model files hold plain data only"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("model file uses persistent ids; it holds plain data only")


def dumps(state: dict[str, Any]) -> bytes:
    """The bytes of a model file for ``state`` (plain data, see :func:`encode_array`)."""
    return pickle.dumps(state, protocol=4)


def loads(payload: bytes) -> dict[str, Any]:
    """The plain data of a model file; :class:`InvalidModelData` if it is anything else."""
    try:
        state = _NoGlobalsUnpickler(io.BytesIO(payload)).load()
    except Exception as error:  # noqa: BLE001 - whatever a crafted file raises means "refuse"
        raise InvalidModelData(
            f"not a ticketbot model file ({type(error).__name__}: {error})"
        ) from None
    if not isinstance(state, dict):
        raise InvalidModelData(f"not a ticketbot model file (it holds a {type(state).__name__})")
    if state.get("format") != FORMAT_VERSION:
        raise InvalidModelData(
            f"model file format {state.get('format')!r}, this ticketbot reads format "
            f"{FORMAT_VERSION}"
        )
    return state


def encode_array(array: np.ndarray) -> dict[str, Any]:
    """An array as plain data."""
    for name, dtype in DTYPES.items():
        if array.dtype == dtype or array.dtype == dtype.newbyteorder("="):
            contiguous = np.ascontiguousarray(array, dtype=dtype)
            return {"dtype": name, "shape": list(contiguous.shape), "data": contiguous.tobytes()}
    raise TypeError(f"arrays of {array.dtype} are not stored in model files")


class Schema:
    """Checked access to one dict of a model file; errors name the path of the field."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise InvalidModelData(f"{where}: expected a mapping, found {type(data).__name__}")
        self.data, self.where = data, where

    def _get(self, key: str) -> Any:
        if key not in self.data:
            raise InvalidModelData(f"{self.where}.{key}: missing")
        return self.data[key]

    def str(self, key: str, choices: tuple[str, ...] | None = None) -> str:
        value = self._get(key)
        if not isinstance(value, str) or (choices and value not in choices):
            expected = f"one of {', '.join(choices)}" if choices else "a string"
            raise InvalidModelData(f"{self.where}.{key}: expected {expected}, found {value!r:.60}")
        return value

    def int(self, key: str, low: int = 0, high: int = 2**31) -> int:
        value = self._get(key)
        if type(value) is not int or not low <= value <= high:
            raise InvalidModelData(
                f"{self.where}.{key}: expected a whole number from {low} to {high}"
            )
        return value

    def float(self, key: str) -> float:
        value = self._get(key)
        if type(value) not in (int, float) or not math.isfinite(value):
            raise InvalidModelData(f"{self.where}.{key}: expected a finite number")
        return float(value)

    def bool(self, key: str) -> bool:
        value = self._get(key)
        if type(value) is not bool:
            raise InvalidModelData(f"{self.where}.{key}: expected true or false")
        return value

    def schema(self, key: str) -> Schema:
        return Schema(self._get(key), f"{self.where}.{key}")

    def optional_schema(self, key: str) -> Schema | None:
        return None if self._get(key) is None else self.schema(key)

    def list(self, key: str, limit: int = 1_000_000) -> list[Any]:
        value = self._get(key)
        if not isinstance(value, list) or len(value) > limit:
            raise InvalidModelData(f"{self.where}.{key}: expected a list of at most {limit}")
        return value

    def strings(self, key: str) -> list[str]:
        values = self.list(key)
        if not values or not all(isinstance(v, str) and v for v in values):
            raise InvalidModelData(f"{self.where}.{key}: expected non-empty strings")
        if len(set(values)) != len(values):
            raise InvalidModelData(f"{self.where}.{key}: duplicate values")
        return values

    def vocabulary(self, key: str, size: int) -> dict[str, int]:
        """A term -> column mapping whose columns are exactly 0 .. size-1."""
        value = self._get(key)
        if not isinstance(value, dict) or len(value) != size:
            raise InvalidModelData(f"{self.where}.{key}: expected {size} terms")
        seen = bytearray(size)
        for term, column in value.items():
            if not isinstance(term, str) or type(column) is not int or not 0 <= column < size:
                raise InvalidModelData(f"{self.where}.{key}: bad entry {term!r:.40}")
            if seen[column]:
                raise InvalidModelData(f"{self.where}.{key}: column {column} used twice")
            seen[column] = 1
        return value

    def array(self, key: str, shape: tuple[int | None, ...], dtype: str) -> np.ndarray:
        """A read-only array of ``dtype`` whose shape matches ``shape`` (None: any size)."""
        record = self.schema(key)
        where = f"{self.where}.{key}"
        if record.str("dtype", tuple(DTYPES)) != dtype:
            raise InvalidModelData(f"{where}.dtype: expected {dtype}")
        dims = record.list("shape", limit=4)
        if len(dims) != len(shape) or not all(type(d) is int and d >= 0 for d in dims):
            raise InvalidModelData(f"{where}.shape: expected {len(shape)} sizes")
        for want, got in zip(shape, dims, strict=True):
            if want is not None and want != got:
                raise InvalidModelData(f"{where}.shape: expected {shape}, found {dims}")
        elements = math.prod(dims)
        if elements > MAX_ELEMENTS:
            raise InvalidModelData(f"{where}.shape: {elements} elements is not a plausible model")
        data = record._get("data")
        size = elements * DTYPES[dtype].itemsize
        if not isinstance(data, bytes) or len(data) != size:
            raise InvalidModelData(f"{where}.data: expected {size} bytes")
        array = np.frombuffer(data, dtype=DTYPES[dtype]).reshape(dims)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise InvalidModelData(f"{where}.data: not finite numbers")
        return array
