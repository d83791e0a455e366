"""The parent side of a served trial: start ``rafiki.runner.serve`` confined (the trial
runner's limits, environment allowlist and sandbox), then send it batches of queries.

``ServedModel`` is used by one thread at a time (the inference worker's thread for that
trial). A background thread drains the child's stdout/stderr into the capped buffers so a
model that prints a lot never blocks; the request and reply travel on two private pipes.

Errors:
- ``ModelLoadError``: the model file, the knobs or ``load_parameters`` raised (the child
  reported it and exited): the trial cannot be served.
- ``ModelPredictError``: ``predict`` raised for this batch; the child keeps serving.
- ``ModelCrashedError``: the child died, broke the protocol or took longer than the timeout;
  it has been killed and reaped, ``restart`` brings up a new one.
"""

from __future__ import annotations

import json
import os
import select
import threading
import time
from typing import Any, NoReturn

from rafiki.runner.limits import ConfinedProcess, Limits, signal_name
from rafiki.runner.serve import HEADER, FrameError, write_frame_bytes


class ModelLoadError(Exception):
    def __init__(self, error: str, traceback: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.traceback = traceback


class ModelPredictError(Exception):
    def __init__(self, error: str, traceback: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.traceback = traceback


class ModelCrashedError(Exception):
    """The serving process is gone (its exit and the last of its stderr are in the message)."""


_STDERR_TAIL = 2000


class ServedModel:
    """One trained trial in a confined child process.

    ``spec``: ``model_file``, ``model_class``, ``knobs``, ``params_path`` (local paths).
    """

    def __init__(
        self,
        spec: dict[str, Any],
        workdir: str,
        limits: Limits,
        *,
        python: str | None = None,
        max_frame_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.spec = spec
        self.workdir = workdir
        self.limits = limits
        self.python = python or _python()
        self.max_frame_bytes = max_frame_bytes
        self.proc: ConfinedProcess | None = None
        self._request_w: int | None = None
        self._reply_r: int | None = None
        self._pump: threading.Thread | None = None
        self._pumping = False
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, timeout: float) -> None:
        """Start the child and wait until it has loaded the parameters.
        Raises ``ModelLoadError`` (the model's fault) or ``ModelCrashedError``."""
        self.close()
        os.makedirs(self.workdir, exist_ok=True)
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        spec = {
            **self.spec,
            "request_fd": request_r,
            "reply_fd": reply_w,
            "max_frame_bytes": self.max_frame_bytes,
        }
        spec_path = os.path.join(self.workdir, "serve-spec.json")
        with open(spec_path, "w", encoding="utf-8") as f:
            json.dump(spec, f)
        readable = [self.spec["model_file"], self.spec["params_path"], spec_path]
        try:
            self.proc = ConfinedProcess(
                [self.python, "-m", "rafiki.runner.serve", spec_path],
                workdir=self.workdir,
                limits=self.limits,
                readable_paths=readable,
                pass_fds=(request_r, reply_w),
            )
        finally:
            # The child holds its ends now; closing ours makes its exit an EOF on reply_r.
            os.close(request_r)
            os.close(reply_w)
        self._request_w, self._reply_r = request_w, reply_r
        self.starts += 1
        self._pumping = True
        self._pump = threading.Thread(target=self._drain_output, daemon=True, name="serve-output")
        self._pump.start()
        message = self._read(timeout, "loading the model")
        if "error" in message:
            self.close()
            raise ModelLoadError(str(message["error"]), str(message.get("traceback", "")))
        if message.get("ready") is not True:
            self._crashed("the model process sent an unexpected first message")

    def restart(self, timeout: float) -> None:
        self.start(timeout)

    @property
    def running(self) -> bool:
        return self.proc is not None and self._reply_r is not None and not self.proc._has_exited()

    def close(self) -> str:
        """Kill and reap the child (safe to call several times); returns how it exited."""
        how = ""
        self._pumping = False
        if self._pump is not None:
            self._pump.join(timeout=5)
            self._pump = None
        if self.proc is not None:
            info = self.proc.close()
            code = info.returncode
            if code is None:
                how = "the model process vanished"
            elif code < 0:
                how = f"the model process was killed by {signal_name(-code)}"
            else:
                how = f"the model process exited with code {code}"
            tail = self.proc.stderr.last_text(_STDERR_TAIL).strip()
            if tail:
                how += f"; its last output:\n{tail}"
            self.proc = None
        for fd in (self._request_w, self._reply_r):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._request_w = self._reply_r = None
        return how

    def _drain_output(self) -> None:
        proc = self.proc
        while self._pumping and proc is not None:
            if proc.pump(0.2):
                return  # exited: close() collects the rest

    def _crashed(self, what: str) -> NoReturn:
        how = self.close()
        raise ModelCrashedError(f"{what}: {how}" if how else what)

    # -- queries -------------------------------------------------------------------------

    def predict(self, queries: list[Any], timeout: float) -> list[Any]:
        """Predictions for ``queries`` (one per query). Raises ``ModelPredictError`` when the
        model raised, ``ModelCrashedError`` when the child is gone or too slow."""
        frame = json.dumps({"queries": queries}, allow_nan=False, separators=(",", ":"))
        return self._predict(frame.encode(), len(queries), timeout)

    def predict_encoded(self, arrays: list[str], count: int, timeout: float) -> list[Any]:
        """``predict`` for queries that are JSON already: the queries of the JSON arrays
        ``arrays`` (``count`` in all), in one batch, without decoding them here."""
        items = ",".join(inner for inner in (a.strip()[1:-1] for a in arrays) if inner.strip())
        return self._predict(f'{{"queries":[{items}]}}'.encode(), count, timeout)

    def _predict(self, frame: bytes, count: int, timeout: float) -> list[Any]:
        if self._request_w is None:
            raise ModelCrashedError("the model process is not running")
        try:
            write_frame_bytes(self._request_w, frame)
        except (BrokenPipeError, OSError):
            self._crashed("the model process is gone")
        message = self._read(timeout, "predicting")
        if "error" in message:
            raise ModelPredictError(str(message["error"]), str(message.get("traceback", "")))
        predictions = message.get("predictions")
        if not isinstance(predictions, list) or len(predictions) != count:
            self._crashed("the model process sent a malformed reply")
        return predictions

    def _read(self, timeout: float, doing: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        assert self._reply_r is not None
        try:
            header = self._read_exact(HEADER.size, deadline, doing)
            (size,) = HEADER.unpack(header)
            if size > self.max_frame_bytes:
                raise FrameError(f"a reply of {size} bytes is over the limit")
            message = json.loads(self._read_exact(size, deadline, doing))
        except (FrameError, ValueError) as e:
            self._crashed(f"the model process broke the protocol ({e})")
        if not isinstance(message, dict):
            self._crashed("the model process sent a malformed reply")
        return message

    def _read_exact(self, n: int, deadline: float, doing: str) -> bytes:
        fd = self._reply_r
        assert fd is not None
        chunks: list[bytes] = []
        while n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._crashed(f"the model took longer than the time limit {doing}")
            poller = select.poll()
            poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
            if not poller.poll(remaining * 1000):
                continue
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                self._crashed(f"the model process ended while {doing}")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)


def _python() -> str:
    import sys

    return sys.executable
