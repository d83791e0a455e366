"""The parent side of a trial: start ``rafiki.runner.trial`` confined, stream its events,
enforce its limits, and say precisely how it ended.

Safe to call from a Celery prefork worker: it installs no signal handler, uses no thread, and
leaves no process behind: the child's whole process group is killed and the child reaped
before ``run_trial`` returns or raises (a callback raising included).

End reasons (``TrialOutcome.end_reason``):

- ``COMPLETED``: result.json says COMPLETED with a finite score and the params file is valid.
- ``ERROR``: the model raised (or broke the BaseModel contract); ``traceback`` is kept.
- ``TIMEOUT``: still running at ``Limits.wall_seconds``; the group was killed.
- ``CPU_LIMIT``: killed by SIGXCPU, or by SIGKILL after using its RLIMIT_CPU seconds.
- ``OUT_OF_MEMORY``: a ``MemoryError`` (RLIMIT_AS makes allocations fail), or death by
  SIGKILL/SIGSEGV/SIGABRT/SIGBUS with evidence of memory exhaustion: a peak address space or
  RSS within 10% of ``memory_mb`` (with ``memory_mb=None``: an RSS over half the machine's
  memory, the OOM killer's doing), or stderr naming a failed allocation. A native library that
  dereferences a failed malloc far below the limit is indistinguishable from any segfault and
  ends as ``SIGNAL``.
- ``SIGNAL``: killed by a signal the trial did not get from us; ``error`` names it.
- ``NO_RESULT``: exited (``sys.exit(3)``, ``os._exit(0)``...) without writing result.json;
  ``error`` gives the exit code.
- ``INVALID_OUTPUT``: result.json or the params file is malformed, too big or not a file.
- ``STOPPED``: ``should_stop()`` returned True; SIGTERM, then SIGKILL after the grace period.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rafiki.runner.limits import (
    ConfinedProcess,
    ExitInfo,
    Limits,
    UntrustedFileError,
    check_regular_file,
    open_regular,
    read_capped,
    signal_name,
    write_file_replacing,
)

COMPLETED = "COMPLETED"
ERRORED = "ERRORED"
STOPPED = "STOPPED"


class EndReason:
    COMPLETED = "COMPLETED"
    ERROR = "ERROR"
    TIMEOUT = "TIMEOUT"
    CPU_LIMIT = "CPU_LIMIT"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    SIGNAL = "SIGNAL"
    NO_RESULT = "NO_RESULT"
    INVALID_OUTPUT = "INVALID_OUTPUT"
    STOPPED = "STOPPED"


@dataclass
class TrialOutcome:
    status: str  # COMPLETED | ERRORED | STOPPED
    end_reason: str  # an EndReason value
    score: float | None = None
    error: str | None = None
    traceback: str | None = None
    params_path: str | None = None  # set only when COMPLETED (the file was validated)
    stdout_tail: str = ""
    stderr_tail: str = ""
    exit_code: int | None = None  # negative: killed by that signal
    duration: float = 0.0  # wall-clock seconds from spawn to reaped
    cpu_seconds: float = 0.0
    max_rss_mb: float = 0.0
    events_delivered: int = 0
    events_malformed: int = 0
    events_truncated: bool = False  # events past Limits.max_events were not read
    stdout_path: str | None = None
    stderr_path: str | None = None


# --- events -------------------------------------------------------------------------------

_EVENT_TYPES = ("MESSAGE", "METRICS", "PLOT")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid number")


def _valid_event(record: Any) -> bool:
    """The shape the SDK logger writes; anything else in the file is not an event."""
    if not isinstance(record, dict) or record.get("type") not in _EVENT_TYPES:
        return False
    if not isinstance(record.get("time"), str):
        return False
    kind = record["type"]
    if kind == "MESSAGE":
        return isinstance(record.get("message"), str)
    if kind == "PLOT":
        metrics = record.get("metrics")
        return (
            isinstance(record.get("title"), str)
            and isinstance(metrics, list)
            and all(isinstance(m, str) for m in metrics)
            and (record.get("x_axis") is None or isinstance(record.get("x_axis"), str))
        )
    return all(
        k in ("type", "time")
        or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))
        for k, v in record.items()
    )


class EventTailer:
    """Reads new complete lines of the events file from the last offset.

    The file is written by untrusted code: a line longer than ``max_line`` is skipped, a line
    that is not an SDK record is counted as malformed, and reading stops after ``max_events``
    so a model logging in a loop cannot make the parent store millions of rows.
    """

    CHUNK = 1024 * 1024

    def __init__(self, path: str, *, max_line: int, max_events: int):
        self.path = path
        self.max_line = max_line
        self.max_events = max_events
        self.delivered = 0
        self.malformed = 0
        self.truncated = False
        self._fd: int | None = None
        self._offset = 0
        self._pending = b""
        self._skipping = False  # inside an over-long line: drop bytes up to its newline
        self._unreadable = False

    def _open(self) -> bool:
        if self._fd is None and not self._unreadable:
            try:
                self._fd = open_regular(self.path)
            except FileNotFoundError:
                return False
            except (OSError, UntrustedFileError):
                self._unreadable = True  # a symlink or a FIFO: never read it
        return self._fd is not None

    def read(self, *, final: bool = False, max_bytes: int = 8 * 1024 * 1024) -> list[dict]:
        """New events. ``final``: the writer is gone, so read to the end (within
        ``max_events``) and take a last line without a newline too."""
        batch: list[dict] = []
        if self.truncated or not self._open():
            return batch
        assert self._fd is not None
        budget = max_bytes
        while budget > 0 or final:
            chunk = os.pread(self._fd, self.CHUNK, self._offset)
            if not chunk:
                break
            self._offset += len(chunk)
            budget -= len(chunk)
            self._feed(chunk, batch)
            if self.truncated:
                return batch
        if final and self._pending and not self._skipping:
            self._line(self._pending, batch)
            self._pending = b""
        return batch

    def _feed(self, chunk: bytes, batch: list[dict]) -> None:
        data = self._pending + chunk
        lines = data.split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            if self._skipping:
                self._skipping = False  # this is the end of the over-long line
                continue
            self._line(line, batch)
            if self.truncated:
                return
        if len(self._pending) > self.max_line:
            if not self._skipping:
                self.malformed += 1
            self._skipping = True
            self._pending = b""

    def _line(self, line: bytes, batch: list[dict]) -> None:
        if not line.strip():
            return
        if self.delivered >= self.max_events:
            self.truncated = True
            return
        if len(line) > self.max_line:
            self.malformed += 1
            return
        try:
            record = json.loads(line, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            self.malformed += 1
            return
        if not _valid_event(record):
            self.malformed += 1
            return
        batch.append(record)
        self.delivered += 1

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# --- the trial ----------------------------------------------------------------------------

_SPEC_PATH_KEYS = ("events_path", "result_path", "params_path")
_SPEC_INPUT_KEYS = ("model_file", "train_dataset_path", "val_dataset_path", "shared_params_path")


def _prepare(spec: dict, workdir: str) -> dict:
    spec = dict(spec)
    defaults = {
        "events_path": "events.jsonl",
        "result_path": "result.json",
        "params_path": "params.rafiki",
    }
    # Real paths: inside the sandbox only the bound paths exist, not symlinks leading to them.
    for key, name in defaults.items():
        spec[key] = os.path.realpath(spec.get(key) or os.path.join(workdir, name))
    for key in _SPEC_INPUT_KEYS:
        if spec.get(key):
            spec[key] = os.path.realpath(spec[key])
    missing = [k for k in ("model_file", "model_class") if not spec.get(k)]
    if missing:
        raise ValueError(f"trial spec lacks {', '.join(missing)}")
    # A retry may reuse the folder: outputs of an earlier attempt must not count for this one.
    for key in _SPEC_PATH_KEYS:
        os.makedirs(os.path.dirname(spec[key]), exist_ok=True)  # bubblewrap binds need them
        for path in (spec[key], spec[key] + ".tmp", spec[key] + ".partial"):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
    return spec


def _noop(*args: Any) -> None:
    return None


def _never() -> bool:
    return False


def run_trial(
    spec: dict,
    workdir: str,
    limits: Limits | None = None,
    *,
    on_events: Callable[[list[dict]], None] = _noop,
    on_heartbeat: Callable[[], None] = _noop,
    should_stop: Callable[[], bool] = _never,
    python: str = sys.executable,
) -> TrialOutcome:
    """Run one trial of ``spec`` (see ``rafiki.runner.trial``) in ``workdir``, confined by
    ``limits``, and return how it ended.

    Every ``limits.poll_interval`` seconds (and once at the end) new events go to
    ``on_events(batch)`` (only non-empty batches), then ``on_heartbeat()`` is called and
    ``should_stop()`` asked. The callbacks run in the calling thread; if one raises, the
    trial's process group is killed and the exception propagates.
    """
    limits = limits or Limits()
    poll_interval = max(limits.poll_interval, 0.05)
    workdir = os.path.realpath(workdir)
    os.makedirs(workdir, exist_ok=True)
    spec = _prepare(spec, workdir)
    spec_path = write_file_replacing(workdir, "spec.json", json.dumps(spec).encode())
    writable = sorted(
        {os.path.dirname(spec[k]) for k in _SPEC_PATH_KEYS} - {workdir}
    )  # outputs placed outside the working folder must be writable in the sandbox too
    # -P: the working folder (writable by model code) does not go on sys.path.
    argv = [python, "-P", "-m", "rafiki.runner.trial", spec_path]

    tailer = EventTailer(
        spec["events_path"], max_line=limits.max_event_line_bytes, max_events=limits.max_events
    )
    ended_by: str | None = None  # TIMEOUT or STOPPED when we ended it
    peak_vm: float | None = None
    readable = [spec[k] for k in _SPEC_INPUT_KEYS if spec.get(k)]
    proc: Any = None
    if limits.warm_start:
        from rafiki.runner.zygote import start_warm

        proc = start_warm(spec_path, workdir, limits, writable, readable, python)
    if proc is None:  # cold start (also whenever the warm zygote cannot serve the trial)
        proc = ConfinedProcess(
            argv, workdir=workdir, limits=limits, writable_dirs=writable, readable_paths=readable
        )
    try:
        deadline = proc.started + limits.wall_seconds
        next_tick = proc.started + poll_interval
        kill_at: float | None = None
        while True:
            now = time.monotonic()
            wake = min(next_tick, deadline if ended_by is None else (kill_at or next_tick))
            if proc.pump(wake - now):
                break
            now = time.monotonic()
            if ended_by is None and now >= deadline:
                ended_by = EndReason.TIMEOUT
                proc.killpg(signal.SIGKILL)
            if kill_at is not None and now >= kill_at:
                proc.killpg(signal.SIGKILL)
                kill_at = None
            if now >= next_tick:
                next_tick = now + poll_interval
                peak_vm = proc.peak_virtual_mb() or peak_vm
                batch = tailer.read()
                if batch:
                    on_events(batch)
                on_heartbeat()
                if ended_by is None and should_stop():
                    ended_by = EndReason.STOPPED
                    proc.killpg(signal.SIGTERM)
                    kill_at = now + limits.stop_grace_seconds
        exit_info = proc.finish()
        batch = tailer.read(final=True)
        if batch:
            on_events(batch)
    finally:
        proc.close()
        tailer.close()

    outcome = _classify(spec, limits, proc, exit_info, ended_by, peak_vm)
    outcome.events_delivered = tailer.delivered
    outcome.events_malformed = tailer.malformed
    outcome.events_truncated = tailer.truncated
    outcome.stdout_path = write_file_replacing(workdir, "stdout.txt", proc.stdout.render())
    outcome.stderr_path = write_file_replacing(workdir, "stderr.txt", proc.stderr.render())
    return outcome


# --- classification -----------------------------------------------------------------------

_TAIL_BYTES = 16 * 1024
_MEMORY_WORDS = ("MemoryError", "out of memory", "Cannot allocate memory", "bad_alloc")


def _classify(
    spec: dict,
    limits: Limits,
    proc: ConfinedProcess,
    exit_info: ExitInfo,
    ended_by: str | None,
    peak_vm: float | None,
) -> TrialOutcome:
    outcome = TrialOutcome(
        status=ERRORED,
        end_reason=EndReason.ERROR,
        stdout_tail=proc.stdout.last_text(_TAIL_BYTES),
        stderr_tail=proc.stderr.last_text(_TAIL_BYTES),
        exit_code=exit_info.returncode,
        duration=time.monotonic() - proc.started,
        cpu_seconds=exit_info.cpu_seconds,
        max_rss_mb=exit_info.max_rss_mb,
    )

    def ended(reason: str, error: str | None, *, status: str = ERRORED) -> TrialOutcome:
        outcome.status, outcome.end_reason, outcome.error = status, reason, error
        return outcome

    if ended_by == EndReason.STOPPED:
        return ended(EndReason.STOPPED, "stopped on request", status=STOPPED)
    if ended_by == EndReason.TIMEOUT:
        return ended(
            EndReason.TIMEOUT,
            f"the trial did not finish within the {limits.wall_seconds:g} s time limit",
        )

    code = exit_info.returncode
    if code is not None and code < 0:
        return _classify_signal(-code, limits, outcome, exit_info, peak_vm, ended)

    try:
        result = _read_result(spec["result_path"], limits.max_result_bytes)
    except FileNotFoundError:
        if _mentions_memory(outcome.stderr_tail):
            return ended(
                EndReason.OUT_OF_MEMORY,
                f"the trial ran out of memory (limit {limits.memory_mb} MB) and exited "
                f"with code {code} without a result",
            )
        return ended(
            EndReason.NO_RESULT,
            f"the model process exited with code {code} without writing a result "
            "(sys.exit or os._exit in model code?)",
        )
    except (UntrustedFileError, ValueError) as e:
        return ended(EndReason.INVALID_OUTPUT, f"result.json is invalid: {e}")

    if result["status"] == ERRORED:
        outcome.traceback = result["traceback"]
        if result["error"].startswith("MemoryError"):
            return ended(
                EndReason.OUT_OF_MEMORY,
                f"{result['error']} (memory limit {limits.memory_mb} MB)",
            )
        return ended(EndReason.ERROR, result["error"] or "the model raised an error")

    params_path = spec["params_path"]
    try:
        _check_params(params_path, limits.effective_max_params_bytes)
    except (UntrustedFileError, ValueError, TypeError) as e:
        return ended(EndReason.INVALID_OUTPUT, f"the params file is invalid: {e}")
    outcome.score = result["score"]
    outcome.params_path = params_path
    return ended(EndReason.COMPLETED, None, status=COMPLETED)


def _classify_signal(
    signum: int,
    limits: Limits,
    outcome: TrialOutcome,
    exit_info: ExitInfo,
    peak_vm: float | None,
    ended: Callable[..., TrialOutcome],
) -> TrialOutcome:
    name = signal_name(signum)
    cpu_limit = limits.effective_cpu_seconds
    if signum == signal.SIGXCPU or (
        signum == signal.SIGKILL and exit_info.cpu_seconds >= cpu_limit - 0.5
    ):
        return ended(
            EndReason.CPU_LIMIT,
            f"the trial used its {cpu_limit} s of CPU time and was killed ({name})",
        )
    memory_signals = (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS)
    if signum in memory_signals and (
        _near_memory_limit(limits, exit_info, peak_vm) or _mentions_memory(outcome.stderr_tail)
    ):
        return ended(
            EndReason.OUT_OF_MEMORY,
            f"the trial ran out of memory (limit {limits.memory_mb} MB) and was killed by {name}",
        )
    return ended(EndReason.SIGNAL, f"the model process was killed by {name}")


def _near_memory_limit(limits: Limits, exit_info: ExitInfo, peak_vm: float | None) -> bool:
    if limits.memory_mb is None:
        # No RLIMIT_AS (GPU trials): the kernel's OOM killer is what ends a trial that takes
        # most of the machine's memory; the address space means nothing there, RSS does.
        return exit_info.max_rss_mb >= 0.5 * _physical_memory_mb()
    peak = max(exit_info.max_rss_mb, peak_vm or 0.0)
    return peak >= 0.9 * limits.memory_mb


def _physical_memory_mb() -> float:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (ValueError, OSError):
        return float("inf")


def _mentions_memory(text: str) -> bool:
    return any(word in text for word in _MEMORY_WORDS)


def _read_result(path: str, max_bytes: int) -> dict:
    """result.json as untrusted input: size-capped, parsed strictly, schema-checked."""
    try:
        data = read_capped(path, max_bytes)
    except UntrustedFileError as e:
        if str(e).endswith("is missing"):
            raise FileNotFoundError(path) from None
        raise
    try:
        result = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:
        raise ValueError(f"not JSON ({e})") from None
    if not isinstance(result, dict):
        raise ValueError("not a JSON object")  # noqa: TRY004 - one error type for bad output
    status = result.get("status")
    if status == COMPLETED:
        score = result.get("score")
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise ValueError(f"score is not a number: {score!r:.100}")
        if not math.isfinite(score):
            raise ValueError(f"score is not finite: {score!r}")
        return {"status": COMPLETED, "score": float(score)}
    if status == ERRORED:
        error, tb = result.get("error"), result.get("traceback", "")
        if not isinstance(error, str) or not isinstance(tb, str):
            raise ValueError("error and traceback must be strings")
        return {"status": ERRORED, "error": error, "traceback": tb}
    raise ValueError(f"status must be COMPLETED or ERRORED, not {status!r:.100}")


def _check_params(path: str, max_bytes: int) -> None:
    """The params file must be a regular file within the cap that ``load_params`` reads
    (pickle-free by construction)."""
    from rafiki.model.params import load_params

    check_regular_file(path, max_bytes)
    load_params(path, max_bytes=max_bytes)
