"""The serving child process: ``python -m rafiki.runner.serve spec.json``.

Loads one trained trial and answers queries until its request pipe closes:

1. imports the model file, builds the class with the trial's knobs, reads the parameters
   (pickle-free ``load_params``) and calls ``load_parameters`` once;
2. writes one frame: ``{"ready": true}``, or ``{"error": str, "traceback": str}`` and exits;
3. then, per request frame ``{"queries": [...]}``, calls ``predict`` and writes
   ``{"predictions": [...]}`` (same length, JSON values) or ``{"error", "traceback"}``.
   A model that raises keeps serving: the error belongs to that batch only.

Frames are length-prefixed JSON: 4 bytes big-endian length, then that many bytes of UTF-8.
The pipes are the descriptors named in the spec (``request_fd``, ``reply_fd``), not
stdin/stdout, so whatever the model prints cannot corrupt the protocol (stdout and stderr go
to the parent's capped capture as for trials).

Spec keys: ``model_file``, ``model_class``, ``knobs``, ``params_path``, ``request_fd``,
``reply_fd``, ``max_frame_bytes``.
"""

from __future__ import annotations

import faulthandler
import json
import os
import struct
import sys
import traceback
from typing import Any

HEADER = struct.Struct(">I")
DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024


class FrameError(Exception):
    """The other end sent something that is not a frame, or closed the pipe mid-frame."""


def read_exact(fd: int, n: int) -> bytes | None:
    """``n`` bytes from ``fd``; None on a clean end of file before the first byte."""
    chunks = []
    remaining = n
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            if remaining == n:
                return None
            raise FrameError("the pipe closed in the middle of a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def write_frame(fd: int, message: Any) -> None:
    write_frame_bytes(fd, json.dumps(message, allow_nan=False, separators=(",", ":")).encode())


def write_frame_bytes(fd: int, data: bytes) -> None:
    """A frame of JSON that is encoded already."""
    view = memoryview(HEADER.pack(len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_frame(fd: int, max_bytes: int) -> Any | None:
    """The next message, or None at end of file."""
    header = read_exact(fd, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > max_bytes:
        raise FrameError(f"a frame of {size} bytes is over the limit of {max_bytes}")
    data = read_exact(fd, size)
    if data is None:
        raise FrameError("the pipe closed in the middle of a frame")
    return json.loads(data)


def jsonable(value: Any) -> Any:
    """Predictions as JSON values: numpy arrays and scalars become lists and numbers."""
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist):
        return jsonable(tolist())
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _error(e: BaseException) -> dict:
    # Worded and trimmed as a trial's errors are (from the model's own frame on).
    from rafiki.runner.trial import error_text, traceback_text

    return {"error": error_text(e), "traceback": traceback_text(e)}


def load(spec: dict) -> Any:
    """The model instance with its parameters loaded."""
    from rafiki.model.model import load_model_class
    from rafiki.model.params import load_params

    with open(spec["model_file"], "rb") as f:
        clazz = load_model_class(f.read(), spec["model_class"])
    model = clazz(**(spec.get("knobs") or {}))
    model.load_parameters(load_params(spec["params_path"]))
    return model


def predict(model: Any, queries: list) -> dict:
    try:
        predictions = model.predict(queries)
        predictions = jsonable(list(predictions))
        if len(predictions) != len(queries):
            raise ValueError(
                f"predict() returned {len(predictions)} predictions for {len(queries)} queries"
            )
        json.dumps(predictions, allow_nan=False)  # NaN/inf would not survive the pipe
        return {"predictions": predictions}
    except Exception as e:  # noqa: BLE001 - model code: the error belongs to this batch
        traceback.clear_frames(e.__traceback__)
        return _error(e)


def main(argv: list[str]) -> int:
    faulthandler.enable()
    if len(argv) != 2:
        print("usage: python -m rafiki.runner.serve spec.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    request_fd, reply_fd = int(spec["request_fd"]), int(spec["reply_fd"])
    max_bytes = int(spec.get("max_frame_bytes") or DEFAULT_MAX_FRAME_BYTES)
    try:
        model = load(spec)
    except Exception as e:  # noqa: BLE001 - model code
        write_frame(reply_fd, _error(e))
        return 0
    write_frame(reply_fd, {"ready": True})
    while True:
        try:
            message = read_frame(request_fd, max_bytes)
        except ValueError:  # a whole frame, but not JSON: that request fails, not the model
            write_frame(reply_fd, {"error": "the request is not JSON", "traceback": ""})
            continue
        if message is None:
            return 0
        queries = message.get("queries") if isinstance(message, dict) else None
        if not isinstance(queries, list):
            write_frame(
                reply_fd, {"error": 'a request must be {"queries": [...]}', "traceback": ""}
            )
            continue
        write_frame(reply_fd, predict(model, queries))


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
