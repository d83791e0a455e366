"""Logging for model code: messages, metrics and plot definitions.

Every call produces one record, a JSON object with ``type`` (``MESSAGE``, ``METRICS`` or
``PLOT``) and ``time`` (``%Y-%m-%dT%H:%M:%S``). Where records go is the *sink*: the console
when a model runs locally, the trial's events file when it runs on the platform.
"""

from __future__ import annotations

import atexit
import json
import math
import numbers
import sys
import threading
import time
from json.encoder import encode_basestring as _quote
from typing import IO, Any, Protocol

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"


class Sink(Protocol):
    def write(self, record: dict) -> None: ...


class _Clock:
    """The current time as text; formatting it once a second keeps ``log()`` cheap."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._text = time.strftime(TIME_FORMAT, time.localtime(second))
        return self._text


class ConsoleSink:
    """Prints records for a person reading a terminal."""

    def __init__(self, stream: IO[str] | None = None):
        self._stream = stream

    def write(self, record: dict) -> None:
        stream = self._stream or sys.stdout
        kind = record["type"]
        if kind == "MESSAGE":
            text = record["message"]
        elif kind == "METRICS":
            text = " ".join(f"{k}={v:g}" for k, v in record.items() if k not in ("type", "time"))
        else:
            x = record["x_axis"] or "time"
            text = f"plot {record['title']!r}: {', '.join(record['metrics'])} against {x}"
        print(f"[{record['time']}] {text}", file=stream)


class JsonLinesSink:
    """Appends one JSON object per line to a file.

    Messages and plot definitions are flushed at once; metrics are buffered and flushed at most
    every ``flush_interval`` seconds, so a model logging them in a tight loop pays for a
    buffered write, not a system call, per record. A background
    thread flushes what is left after a burst, so the last line before a long silent phase
    (a slow epoch) still shows up live. A reader tailing the file sees complete lines only.
    """

    def __init__(self, path: str, flush_interval: float = 0.2):
        self._file = open(path, "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115 - open while the sink lives
        self._flush_interval = flush_interval
        self._last_flush = time.monotonic()
        # The flusher thread and write() share the file buffer.
        self._lock = threading.Lock()
        self._dirty = False
        self._flusher: threading.Thread | None = None
        atexit.register(self.flush)  # sys.exit() in model code keeps the last records too

    def write(self, record: dict) -> None:
        line = _encode(record) + "\n"
        with self._lock:
            self._file.write(line)
            now = time.monotonic()
            # Messages and plot definitions are rare and are what a person reads when a
            # trial dies: they go out at once. Metrics, which models log in tight loops, are
            # flushed at most every flush_interval.
            if record.get("type") != "METRICS" or now - self._last_flush >= self._flush_interval:
                self._file.flush()
                self._last_flush = now
                self._dirty = False
            else:
                self._dirty = True
        if self._flusher is None:
            self._flusher = threading.Thread(
                target=self._flush_loop, name="rafiki-log-flush", daemon=True
            )
            self._flusher.start()

    def _flush_loop(self) -> None:
        while True:
            time.sleep(self._flush_interval)
            with self._lock:
                if self._file.closed:
                    return
                if self._dirty:
                    self._file.flush()
                    self._last_flush = time.monotonic()
                    self._dirty = False

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()
                self._dirty = False

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def _encode(record: dict) -> str:
    """JSON for a record; flat records of str/int/float (nearly all of them) are formatted
    directly, which is faster than the json module's general encoder."""
    parts = []
    for key, value in record.items():
        kind = type(value)
        if kind is str:
            text = _quote(value)
        elif kind is float or kind is int:
            text = repr(value)  # finite floats and ints: their repr is valid JSON
        else:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        parts.append(f"{_quote(key)}: {text}")
    return "{" + ", ".join(parts) + "}"


class ListSink:
    """Keeps records in memory (handy in tests)."""

    def __init__(self) -> None:
        self.records: list[dict] = []

    def write(self, record: dict) -> None:
        self.records.append(record)


def _metric_value(name: str, value: Any) -> float | int:
    kind = type(value)
    if kind is float and value - value == 0.0:  # the common case, finite floats: fast path
        return value
    if kind is int:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        # numpy scalars are numbers.Number; bools and everything else are refused.
        raise TypeError(
            f"metric {name!r} must be an int or a float, not {type(value).__name__} ({value!r})"
        )
    if isinstance(value, numbers.Integral):
        return int(value)
    as_float = float(value)  # type: ignore[arg-type]
    if not math.isfinite(as_float):
        raise TypeError(f"metric {name!r} must be a finite number, not {as_float}")
    return as_float


class LoggerUtils:
    """Lets models log messages and metrics while they train and evaluate.

    Do not create one: use ``from rafiki.model import utils`` and ``utils.logger`` (or the
    module-level ``logger``). For example::

        utils.logger.define_plot('Precision & Recall', ['precision', 'recall'], x_axis='epoch')
        utils.logger.log('Starting model training...')
        utils.logger.log(precision=0.1, recall=0.6, epoch=1)
    """

    def __init__(self, sink: Sink | None = None):
        self._sink: Sink = sink if sink is not None else ConsoleSink()
        self._clock = _Clock()

    def set_sink(self, sink: Sink) -> Sink:
        """Send records to ``sink`` from now on; returns the previous sink."""
        previous, self._sink = self._sink, sink
        return previous

    @property
    def sink(self) -> Sink:
        return self._sink

    def define_loss_plot(self) -> None:
        """Define a plot of ``loss`` against ``epoch``; log points with ``log_loss``."""
        self.define_plot("Loss Over Epochs", ["loss"], x_axis="epoch")

    def log_loss(self, loss: float, epoch: int) -> None:
        """Log ``loss`` at ``epoch`` (see ``define_loss_plot``)."""
        self.log(loss=loss, epoch=epoch)

    def define_plot(self, title: str, metrics: list[str], x_axis: str | None = None) -> None:
        """Define a plot of ``metrics`` (y axis) against the metric ``x_axis``, or against
        time when ``x_axis`` is None. The dashboard draws one chart per defined plot."""
        if not isinstance(title, str) or not title:
            raise TypeError(f"plot title must be a non-empty string, not {title!r}")
        if isinstance(metrics, str) or not isinstance(metrics, (list, tuple)) or not metrics:
            raise TypeError(f"plot {title!r}: metrics must be a non-empty list of metric names")
        if not all(isinstance(m, str) and m for m in metrics):
            raise TypeError(f"plot {title!r}: every metric name must be a non-empty string")
        if x_axis is not None and (not isinstance(x_axis, str) or not x_axis):
            raise TypeError(f"plot {title!r}: x_axis must be a metric name or None")
        self._sink.write(
            {
                "type": "PLOT",
                "time": self._clock.now(),
                "title": title,
                "metrics": list(metrics),
                "x_axis": x_axis,
            }
        )

    def log(self, msg: str = "", **metrics: Any) -> None:
        """Log a message and/or metrics (``name=number``) at one point in time."""
        now = self._clock.now()
        if msg:
            self._sink.write({"type": "MESSAGE", "time": now, "message": str(msg)})
        if metrics:
            record: dict = {"type": "METRICS", "time": now}
            for name, value in metrics.items():
                record[name] = _metric_value(name, value)
            self._sink.write(record)
