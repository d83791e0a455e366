"""Model parameters: checking them and storing them without pickle.

``Params`` is a dict of name -> str, int, float or numpy array (any dtype but object). The
on-disk format ("Rafiki params v1") is one file:

- 8 bytes: the magic ``b"RAFKPRM1"``;
- 8 bytes: the length N of the header, unsigned little-endian;
- N bytes: the header, UTF-8 JSON: ``{"scalars": {name: {"type": "str"|"int"|"float", "value": v}},
  "arrays": [{"name", "dtype" (numpy dtype string, e.g. "<f4"), "shape", "offset", "nbytes"}]}``,
  offsets counted from the start of the file;
- the arrays' bytes in C order, each starting at a multiple of 64.

Arrays are written straight from their memory and read straight into a new array, so saving
and loading never hold a second copy of a large array. Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import math
import os
import struct
from typing import Any

import numpy as np

MAGIC = b"RAFKPRM1"
_ALIGN = 64
#: A header larger than this is not a params file (it protects readers of untrusted files).
MAX_HEADER_BYTES = 64 * 1024 * 1024


class InvalidParamsError(TypeError):
    """Parameters are not a valid ``Params`` dict, or a params file is malformed."""


def validate_params(params: Any) -> None:
    """Check that ``params`` is a dict of str -> str, int, float or numpy array (not of
    object dtype). Raises ``InvalidParamsError`` naming the offending entry."""
    if not isinstance(params, dict):
        raise InvalidParamsError(
            f"parameters must be a dict of name -> value, not {type(params).__name__}"
        )
    for name, value in params.items():
        if not isinstance(name, str):
            raise InvalidParamsError(f"parameter names must be strings, not {name!r}")
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise InvalidParamsError(
                    f"parameter {name!r} is a numpy array of dtype object: store numbers or "
                    "strings (e.g. convert with np.asarray(..., dtype=float))"
                )
        elif isinstance(value, bool) or not isinstance(value, (str, int, float, np.generic)):
            raise InvalidParamsError(
                f"parameter {name!r} is a {type(value).__name__}: values must be str, int, "
                "float or numpy arrays (serialise anything else, e.g. to a JSON string)"
            )
        elif isinstance(value, np.generic) and value.dtype.hasobject:
            raise InvalidParamsError(f"parameter {name!r} is a numpy object scalar")


def _scalar(name: str, value: Any) -> dict:
    if isinstance(value, np.generic):
        value = value.item()  # numpy scalars become the Python scalar of the same value
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, int) and not isinstance(value, bool):
        return {"type": "int", "value": value}
    if isinstance(value, float):
        # JSON has no NaN or infinity: keep those as text.
        return {"type": "float", "value": value if math.isfinite(value) else repr(value)}
    raise InvalidParamsError(f"parameter {name!r} of type {type(value).__name__} is not storable")


def save_params(params: dict[str, Any], path: str) -> None:
    """Write ``params`` to ``path`` in the Rafiki params format (see the module docstring)."""
    validate_params(params)
    scalars = {}
    arrays = []
    layout = []
    for name, value in params.items():
        if isinstance(value, np.ndarray):
            array = np.asarray(value, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
            arrays.append(array)
            layout.append(
                {
                    "name": name,
                    "dtype": array.dtype.str,
                    "shape": list(array.shape),
                    "nbytes": int(array.nbytes),
                }
            )
        else:
            scalars[name] = _scalar(name, value)

    # The offsets depend on the header's length, which depends on the offsets: reserve room
    # for them by sizing the header with generous placeholder offsets first.
    for entry in layout:
        entry["offset"] = 10**15
    header_len = len(json.dumps({"scalars": scalars, "arrays": layout}).encode())
    offset = _align(16 + header_len)
    for entry in layout:
        entry["offset"] = offset
        offset = _align(offset + entry["nbytes"])
    header = json.dumps({"scalars": scalars, "arrays": layout}).encode()
    header += b" " * (header_len - len(header))

    tmp = f"{path}.partial"
    with open(tmp, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<Q", len(header)))
        f.write(header)
        for entry, array in zip(layout, arrays):
            f.seek(entry["offset"])
            if array.nbytes:
                f.write(_bytes_view(array))
        f.truncate(max(f.tell(), _align(16 + len(header))))
    os.replace(tmp, path)


def _bytes_view(array: np.ndarray) -> np.ndarray:
    """The array's memory as flat bytes, without copying (any dtype, any shape, 0-d too)."""
    return array.reshape(-1).view(np.uint8)


def _align(n: int) -> int:
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def load_params(path: str, *, max_bytes: int | None = None) -> dict[str, Any]:
    """Read a params file written by ``save_params``. Raises ``InvalidParamsError`` when the
    file is not one (or is larger than ``max_bytes``)."""
    size = os.path.getsize(path)
    if max_bytes is not None and size > max_bytes:
        raise InvalidParamsError(f"params file is {size} bytes, over the limit of {max_bytes}")
    with open(path, "rb") as f:
        if f.read(8) != MAGIC:
            raise InvalidParamsError(f"{os.path.basename(path)} is not a Rafiki params file")
        try:
            (header_len,) = struct.unpack("<Q", f.read(8))
            if header_len > min(MAX_HEADER_BYTES, size):
                raise ValueError("header length out of range")
            header = json.loads(f.read(header_len))
            params: dict[str, Any] = {}
            for name, scalar in header["scalars"].items():
                params[name] = _read_scalar(scalar)
            for entry in header["arrays"]:
                dtype = np.dtype(entry["dtype"])
                if dtype.hasobject:
                    raise ValueError(f"array {entry['name']!r} has dtype object")
                shape = tuple(int(n) for n in entry["shape"])
                array = np.empty(shape, dtype=dtype)
                if array.nbytes != entry["nbytes"] or entry["offset"] + array.nbytes > size:
                    raise ValueError(f"array {entry['name']!r} does not fit the file")
                f.seek(entry["offset"])
                if array.nbytes and f.readinto(_bytes_view(array)) != array.nbytes:
                    raise ValueError(f"array {entry['name']!r} is truncated")
                params[entry["name"]] = array
        except InvalidParamsError:
            raise
        except (ValueError, KeyError, TypeError, struct.error, MemoryError) as e:
            raise InvalidParamsError(f"{os.path.basename(path)} is malformed: {e}") from None
    return params


def _read_scalar(scalar: dict) -> Any:
    kind, value = scalar["type"], scalar["value"]
    if kind == "str" and isinstance(value, str):
        return value
    if kind == "int" and isinstance(value, int):
        return value
    if kind == "float":
        return float(value)
    raise ValueError(f"bad scalar {scalar!r}")
