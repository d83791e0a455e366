import io
import json
import re

import numpy as np
import pytest

from rafiki.model import LoggerUtils, logger, utils
from rafiki.model.log import ConsoleSink, JsonLinesSink, ListSink

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def test_module_logger_is_the_utils_logger():
    assert logger is utils.logger
    assert isinstance(logger, LoggerUtils)


def test_records_follow_the_rafiki_line_format(tmp_path):
    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(str(path))
    log = LoggerUtils(sink)
    log.define_plot("Precision & Recall", ["precision", "recall"], x_axis="epoch")
    log.define_loss_plot()
    log.log("Starting training")
    log.log(precision=np.float32(0.5), recall=1, epoch=np.int64(2))
    log.log_loss(0.25, 3)
    sink.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["type"] for r in lines] == ["PLOT", "PLOT", "MESSAGE", "METRICS", "METRICS"]
    assert all(TIME.match(r["time"]) for r in lines)
    assert lines[0] | {"time": None} == {
        "type": "PLOT",
        "time": None,
        "title": "Precision & Recall",
        "metrics": ["precision", "recall"],
        "x_axis": "epoch",
    }
    assert lines[1]["metrics"] == ["loss"] and lines[1]["x_axis"] == "epoch"
    assert lines[2]["message"] == "Starting training"
    assert lines[3]["precision"] == 0.5 and lines[3]["recall"] == 1 and lines[3]["epoch"] == 2
    assert type(lines[3]["epoch"]) is int
    assert lines[4]["loss"] == 0.25 and lines[4]["epoch"] == 3


def test_plot_against_time_has_null_x_axis():
    sink = ListSink()
    LoggerUtils(sink).define_plot("Accuracy", ["acc"])
    assert sink.records[0]["x_axis"] is None


@pytest.mark.parametrize("value", ["0.5", None, [1.0], True, float("nan")])
def test_metric_values_must_be_numbers(value):
    with pytest.raises(TypeError, match="metric 'accuracy'"):
        LoggerUtils(ListSink()).log(accuracy=value)


def test_bad_plot_definitions_are_type_errors():
    log = LoggerUtils(ListSink())
    with pytest.raises(TypeError, match="metrics must be a non-empty list"):
        log.define_plot("Loss", "loss")
    with pytest.raises(TypeError, match="title"):
        log.define_plot("", ["loss"])


def test_console_sink_prints_readable_lines():
    out = io.StringIO()
    log = LoggerUtils(ConsoleSink(out))
    log.log("hello", loss=0.5)
    text = out.getvalue()
    assert "hello" in text and "loss=0.5" in text


def test_set_sink_returns_previous_sink():
    log = LoggerUtils(ListSink())
    first = log.sink
    second = ListSink()
    assert log.set_sink(second) is first
    log.log("x")
    assert second.records and not first.records


def test_events_file_shows_the_last_record_before_a_silent_phase(tmp_path):
    import time

    path = tmp_path / "events.jsonl"
    sink = JsonLinesSink(str(path), flush_interval=0.05)
    log = LoggerUtils(sink)
    log.log("first")
    log.log("second, then a long epoch without logging")
    deadline = time.monotonic() + 5
    while "second" not in path.read_text() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "second" in path.read_text()  # visible while the model is still silent
    sink.close()


def test_a_message_reaches_the_file_before_a_sudden_death(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "events.jsonl"
    code = (
        "import os\n"
        "from rafiki.model.log import JsonLinesSink, LoggerUtils\n"
        f"log = LoggerUtils(JsonLinesSink({str(path)!r}, flush_interval=60))\n"
        "log.log(loss=1.0)\n"
        "log.log('about to crash')\n"
        "os._exit(1)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[-1]["message"] == "about to crash"
    assert lines[0]["loss"] == 1.0  # buffered metrics go out with the message
