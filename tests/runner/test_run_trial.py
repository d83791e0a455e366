"""The trial runner against well-behaved and misbehaving model code (no database, no Django).

Every fault test also checks that this process (standing in for a Celery worker) lives on,
has no child left (no zombie), and can run a good trial right after.
"""

from __future__ import annotations

import dataclasses
import errno
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from rafiki.model.params import load_params
from rafiki.runner import EndReason, Limits, TrialOutcome, run_trial
from rafiki.runner.limits import ExitInfo, bwrap_path, rafiki_root
from rafiki.runner.supervise import EventTailer, _classify_signal
from rafiki.runner.zygote import zygote_pids
from tests.conftest import processes_mentioning

MODELS = Path(__file__).parent / "models"

#: Short limits so faults end quickly; 768 MB of address space is ample for numpy + the SDK.
FAST = Limits(wall_seconds=20, cpu_seconds=10, memory_mb=768, stop_grace_seconds=1.0)


@pytest.fixture(autouse=True, params=["warm", "cold"])
def start_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with both start paths: a fork of the warm zygote (asserted to have
    served each trial, no silent fallback) and today's cold ``python -m`` child."""
    from rafiki.runner import zygote

    real = zygote.start_warm
    if request.param == "cold":
        monkeypatch.setattr(zygote, "start_warm", lambda *a, **k: None)
    else:

        def checked(*args: object, **kwargs: object) -> object:
            proc = real(*args, **kwargs)  # type: ignore[arg-type]
            assert proc is not None, "the warm zygote did not serve the trial"
            return proc

        monkeypatch.setattr(zygote, "start_warm", checked)
    return request.param


def make_spec(tmp_path: Path, model: str, cls: str, knobs: dict, **extra: object) -> dict:
    spec = {
        "model_file": str(MODELS / model),
        "model_class": cls,
        "knobs": knobs,
        "train_dataset_path": str(tmp_path / "train.zip"),
        "val_dataset_path": str(tmp_path / "val.zip"),
        "train_args": {},
        "shared_params_path": None,
        "events_path": str(tmp_path / "work" / "events.jsonl"),
        "result_path": str(tmp_path / "work" / "result.json"),
        "params_path": str(tmp_path / "work" / "params.rafiki"),
    }
    spec.update(extra)
    return spec


def run_fault(tmp_path: Path, fault: str, limits: Limits = FAST, **kwargs: object) -> TrialOutcome:
    spec = make_spec(tmp_path, "faults.py", "Faulty", {"fault": fault})
    return run_trial(spec, str(tmp_path / "work"), limits, **kwargs)  # type: ignore[arg-type]


def our_children() -> set[int]:
    found: set[int] = set()
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/children") as f:
            found |= {int(p) for p in f.read().split()}
    return found


def assert_no_child_left() -> None:
    # The warm-start zygote is the one child this process keeps on purpose (it never runs
    # model code); nothing else may be left, not even a zombie.
    try:
        zombie = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return
    assert zombie is None, zombie
    assert our_children() <= set(zygote_pids())


@pytest.fixture
def still_works(tmp_path: Path):
    """After the test: no child of ours is left, and a good trial still completes."""
    yield
    assert_no_child_left()
    spec = make_spec(tmp_path / "after", "good.py", "Good", {"epochs": 1, "lr": 0.01})
    outcome = run_trial(spec, str(tmp_path / "after" / "work"), FAST)
    assert (outcome.status, outcome.end_reason) == ("COMPLETED", "COMPLETED"), outcome
    assert_no_child_left()


def events_of(outcome_events: list[list[dict]]) -> list[dict]:
    return [e for batch in outcome_events for e in batch]


# --- well-behaved -------------------------------------------------------------------------


def test_good_model_completes_with_score_events_and_params(tmp_path: Path) -> None:
    batches: list[list[dict]] = []
    beats: list[float] = []
    spec = make_spec(tmp_path, "good.py", "Good", {"epochs": 3, "lr": 0.25}, train_args={"seed": 7})
    outcome = run_trial(
        spec, str(tmp_path / "work"), FAST, on_events=batches.append,
        on_heartbeat=lambda: beats.append(time.monotonic()),
    )  # fmt: skip
    assert outcome.status == "COMPLETED" and outcome.end_reason == "COMPLETED"
    assert outcome.score == pytest.approx(0.75)
    assert outcome.error is None and outcome.exit_code == 0
    assert (
        "trained on" in outcome.stdout_tail and str(tmp_path / "train.zip") in outcome.stdout_tail
    )
    events = events_of(batches)
    assert [e["type"] for e in events] == ["MESSAGE", "PLOT", "METRICS", "METRICS", "METRICS"]
    assert events[0]["message"] == "train args [('seed', 7)]"
    assert [e["loss"] for e in events if e["type"] == "METRICS"] == pytest.approx([1, 0.5, 1 / 3])
    params = load_params(outcome.params_path)
    assert params["w"].tolist() == [0.75, 0.75, 0.75]
    assert params["epochs"] == 3 and params["name"] == "good"
    assert not list(Path(tmp_path / "work").glob("*.pkl"))

    # The same params, shared with the next trial.
    batches.clear()
    spec2 = make_spec(
        tmp_path / "2", "good.py", "Good", {"epochs": 1, "lr": 0.25},
        shared_params_path=outcome.params_path,
    )  # fmt: skip
    outcome2 = run_trial(spec2, str(tmp_path / "2" / "work"), FAST, on_events=batches.append)
    assert outcome2.status == "COMPLETED"
    assert events_of(batches)[0]["message"] == "got shared params [0.75, 0.75, 0.75]"
    assert load_params(outcome2.params_path)["w"].tolist() == [1.0, 1.0, 1.0]


def test_model_without_super_init_and_int_score_completes(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, "no_super.py", "NoSuper", {"k": 2})
    outcome = run_trial(spec, str(tmp_path / "work"), FAST)
    assert (outcome.status, outcome.score) == ("COMPLETED", 2.0)
    assert load_params(outcome.params_path) == {}


def test_events_stream_in_several_batches_while_the_model_runs(tmp_path: Path) -> None:
    batches: list[tuple[float, list[dict]]] = []
    spec = make_spec(tmp_path, "slow_logger.py", "SlowLogger", {"steps": 20})
    limits = Limits(wall_seconds=20, memory_mb=768, poll_interval=0.3)
    outcome = run_trial(
        spec, str(tmp_path / "work"), limits,
        on_events=lambda b: batches.append((time.monotonic(), b)),
    )  # fmt: skip
    assert outcome.status == "COMPLETED"
    assert len(batches) >= 3
    assert [e["step"] for _, b in batches for e in b] == list(range(20))
    # The first batch arrived well before the end: it was live, not collected afterwards.
    assert batches[-1][0] - batches[0][0] > 1.0


def test_a_reused_workdir_does_not_count_an_old_result(tmp_path: Path, still_works: None) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "result.json").write_text('{"status": "COMPLETED", "score": 1.0}')
    outcome = run_fault(tmp_path, "os_exit")
    assert (outcome.status, outcome.end_reason) == ("ERRORED", "NO_RESULT")


# --- model code that fails ----------------------------------------------------------------


def test_model_raises_keeps_the_traceback(tmp_path: Path, still_works: None) -> None:
    batches: list[list[dict]] = []
    outcome = run_fault(tmp_path, "raise", on_events=batches.append)
    assert (outcome.status, outcome.end_reason) == ("ERRORED", "ERROR")
    assert outcome.error == "ValueError: learning rate too high for this dataset"
    assert "Traceback" in outcome.traceback
    # The model's own line is shown (the source is registered for tracebacks).
    assert 'raise ValueError("learning rate too high for this dataset")' in outcome.traceback
    # It starts at the model's own frame: the runner's frames are not the author's business.
    assert outcome.traceback.splitlines()[1].startswith('  File "<model file Faulty>"')
    assert "rafiki/runner" not in outcome.traceback
    assert events_of(batches)[0]["message"] == "fault: raise"  # logged before the error


def test_sys_exit_is_no_result_with_the_exit_code(tmp_path: Path, still_works: None) -> None:
    outcome = run_fault(tmp_path, "sys_exit")
    assert (outcome.status, outcome.end_reason, outcome.exit_code) == ("ERRORED", "NO_RESULT", 3)
    assert "exited with code 3" in outcome.error


def test_os_exit_zero_before_a_result_is_no_result(tmp_path: Path, still_works: None) -> None:
    outcome = run_fault(tmp_path, "os_exit")
    assert (outcome.status, outcome.end_reason, outcome.exit_code) == ("ERRORED", "NO_RESULT", 0)
    assert "exited with code 0 without writing a result" in outcome.error


def test_spinning_forever_hits_the_cpu_limit(tmp_path: Path, still_works: None) -> None:
    limits = Limits(wall_seconds=20, cpu_seconds=2, memory_mb=768)
    started = time.monotonic()
    outcome = run_fault(tmp_path, "spin", limits)
    assert (outcome.status, outcome.end_reason) == ("ERRORED", "CPU_LIMIT")
    assert outcome.exit_code == -signal.SIGXCPU
    assert time.monotonic() - started < 10


def test_spinning_without_a_cpu_limit_times_out(tmp_path: Path, still_works: None) -> None:
    limits = Limits(wall_seconds=2, cpu_seconds=60, memory_mb=768)
    outcome = run_fault(tmp_path, "spin", limits)
    assert (outcome.status, outcome.end_reason) == ("ERRORED", "TIMEOUT")


def test_sleeping_forever_times_out(tmp_path: Path, still_works: None) -> None:
    limits = Limits(wall_seconds=2, memory_mb=768)
    outcome = run_fault(tmp_path, "sleep", limits)
    assert (outcome.status, outcome.end_reason) == ("ERRORED", "TIMEOUT")
    assert "2 s time limit" in outcome.error
    assert 2 <= outcome.duration < 4


@pytest.mark.parametrize("fault", ["allocate", "allocate_gradually"])
def test_allocating_far_more_than_allowed_is_out_of_memory(
    tmp_path: Path, still_works: None, fault: str
) -> None:
    outcome = run_fault(tmp_path, fault, Limits(wall_seconds=20, memory_mb=512))
    assert (outcome.status, outcome.end_reason) == ("ERRORED", "OUT_OF_MEMORY"), outcome
    assert outcome.error.startswith("MemoryError")
    assert "memory limit 512 MB" in outcome.error


def test_segfault_is_named(tmp_path: Path, still_works: None) -> None:
    outcome = run_fault(tmp_path, "segfault")
    assert (outcome.status, outcome.end_reason) == ("ERRORED", "SIGNAL")
    assert outcome.exit_code == -signal.SIGSEGV
    assert "SIGSEGV" in outcome.error
    # faulthandler in the child shows where the model crashed.
    assert "Segmentation fault" in outcome.stderr_tail and "train" in outcome.stderr_tail


@pytest.mark.parametrize("fault", ["print_flood", "stderr_flood"])
def test_printing_a_flood_completes_with_capped_output(
    tmp_path: Path, still_works: None, fault: str
) -> None:
    limits = Limits(wall_seconds=30, memory_mb=768, file_size_mb=16, output_keep_kb=32)
    outcome = run_fault(tmp_path, fault, limits)
    assert (outcome.status, outcome.end_reason) == ("COMPLETED", "COMPLETED")
    for path in (outcome.stdout_path, outcome.stderr_path):
        assert os.path.getsize(path) <= 2 * 32 * 1024 + 100
    flooded = Path(outcome.stdout_path if fault == "print_flood" else outcome.stderr_path)
    text = flooded.read_text()
    assert "bytes omitted" in text and text.endswith("\n")
    assert len(outcome.stdout_tail) <= 16 * 1024 and len(outcome.stderr_tail) <= 16 * 1024
    total = sum(f.stat().st_size for f in (tmp_path / "work").rglob("*") if f.is_file())
    assert total < 1024 * 1024  # nothing close to the 100 MB printed reached the disk


def test_should_stop_kills_the_whole_process_group(tmp_path: Path, still_works: None) -> None:
    pid_file = tmp_path / "work" / "grandchild.pid"
    outcome = run_fault(
        tmp_path, "grandchild", should_stop=lambda: pid_file.exists(),
    )  # fmt: skip
    assert (outcome.status, outcome.end_reason) == ("STOPPED", "STOPPED")
    assert_gone(tmp_path / "work")


def assert_gone(workdir: Path) -> None:
    # The grandchild was in the trial's process group (and pid namespace under bubblewrap):
    # it is gone. It is not our child, so it may take a moment for init to reap it.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and processes_mentioning(str(workdir)):
        time.sleep(0.05)
    assert processes_mentioning(str(workdir)) == []


def test_a_callback_raising_still_kills_the_trial(tmp_path: Path, still_works: None) -> None:
    pid_file = tmp_path / "work" / "grandchild.pid"

    def heartbeat() -> None:
        if pid_file.exists():
            raise ConnectionError("database went away")

    with pytest.raises(ConnectionError):
        run_fault(tmp_path, "grandchild", on_heartbeat=heartbeat)
    assert_gone(tmp_path / "work")


def test_secrets_in_the_parent_environment_do_not_reach_model_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, still_works: None
) -> None:
    monkeypatch.setenv("SECRET_KEY", "django-insecure-k3y-4711")
    monkeypatch.setenv("DATABASE_URL", "postgres://rafiki:pw@db/rafiki")
    monkeypatch.setenv("REDIS_URL", "redis://localhost:6379/0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-k3y-4712")
    batches: list[list[dict]] = []
    limits = Limits(wall_seconds=20, memory_mb=768, cuda_visible_devices="1", threads=2)
    outcome = run_fault(tmp_path, "env", limits, on_events=batches.append)
    assert outcome.status == "COMPLETED"
    message = next(e["message"] for e in events_of(batches) if e["message"].startswith("ENV "))
    env = json.loads(message[4:])
    for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "AWS_SECRET_ACCESS_KEY"):
        assert name not in env
    assert "k3y-471" not in message and "postgres" not in message
    assert env["HOME"] == str(tmp_path / "work")
    assert env["CUDA_VISIBLE_DEVICES"] == "1"
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "2"
    assert env["PYTHONPATH"] == rafiki_root()
    assert set(env) <= {
        "PATH", "HOME", "TMPDIR", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED", "PYTHONNOUSERSITE", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS",
        "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
        "LC_CTYPE",  # set by Python itself when it coerces the C locale
        "PWD",  # set by bubblewrap's --chdir
    } | {k for k in env if k.startswith("LC_")}  # fmt: skip


# --- contract violations and untrusted outputs --------------------------------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("score_str", "evaluate() must return a number (the validation score, higher is better), got str: '0.9'"),
        ("score_nan", "evaluate() must return a finite number, got nan"),
        ("params_object", "dump_parameters() must return a dict of parameter name -> value"),
        ("params_list_value", "dump_parameters() returned invalid parameters: parameter 'weights' is a list"),
    ],
)  # fmt: skip
def test_contract_violations_are_named(
    tmp_path: Path, still_works: None, fault: str, message: str
) -> None:
    outcome = run_fault(tmp_path, fault)
    assert (outcome.status, outcome.end_reason) == ("ERRORED", "ERROR")
    assert outcome.error.startswith(message), outcome.error
    assert outcome.params_path is None


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("result_too_big", "result.json is invalid: result.json is larger than the limit"),
        ("result_forged_no_params", "the params file is invalid: params.rafiki is missing"),
    ],
)
def test_forged_outputs_are_invalid_output(
    tmp_path: Path, still_works: None, fault: str, message: str
) -> None:
    outcome = run_fault(tmp_path, fault)
    assert (outcome.status, outcome.end_reason) == ("ERRORED", "INVALID_OUTPUT")
    assert outcome.error.startswith(message), outcome.error


def test_result_json_symlink_is_not_followed(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    spec = make_spec(tmp_path, "good.py", "Good", {"epochs": 1, "lr": 0.1})
    outcome = run_trial(spec, str(work), FAST)
    assert outcome.status == "COMPLETED"
    from rafiki.runner.supervise import _read_result

    (work / "elsewhere.json").write_text('{"status": "COMPLETED", "score": 9.0}')
    os.replace(work / "result.json", work / "old.json")
    os.symlink(work / "elsewhere.json", work / "result.json")
    with pytest.raises(Exception, match="symbolic link"):
        _read_result(str(work / "result.json"), 1000)


def test_destroy_raising_keeps_the_trial_completed(tmp_path: Path, still_works: None) -> None:
    batches: list[list[dict]] = []
    outcome = run_fault(tmp_path, "destroy_raises", on_events=batches.append)
    assert outcome.status == "COMPLETED"
    messages = [e.get("message") for e in events_of(batches)]
    assert "destroy() raised RuntimeError: could not release the session" in messages


def test_a_thread_left_running_does_not_hold_the_trial(tmp_path: Path, still_works: None) -> None:
    outcome = run_fault(tmp_path, "thread_left_running", Limits(wall_seconds=5, memory_mb=768))
    assert (outcome.status, outcome.end_reason) == ("COMPLETED", "COMPLETED")
    assert outcome.duration < 4


# --- pieces -------------------------------------------------------------------------------


def test_event_tailer_keeps_complete_valid_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    tailer = EventTailer(str(path), max_line=200, max_events=4)
    assert tailer.read() == []  # not created yet
    good = '{"type": "MESSAGE", "time": "t", "message": "hi"}\n'
    with open(path, "w") as f:
        f.write(good + "not json\n" + '{"type": "METRICS", "time": "t", "loss": NaN}\n')
        f.write('{"type": "METRICS", "time": "t", "lo')  # being written
        f.flush()
        assert [e["message"] for e in tailer.read()] == ["hi"]
        f.write('ss": 0.5}\n' + "x" * 500 + "\n" + good + good + good)
        f.flush()
        batch = tailer.read()
    assert [e["type"] for e in batch] == ["METRICS", "MESSAGE", "MESSAGE"]
    assert tailer.malformed == 3  # not JSON, NaN, the over-long line
    assert tailer.truncated  # the fifth event is past max_events
    tailer.close()


def test_a_kill_near_the_memory_limit_is_out_of_memory() -> None:
    # What the kernel's OOM killer (or a cgroup limit) does: SIGKILL at a high RSS.
    limits = Limits(memory_mb=1000)
    outcome = TrialOutcome(status="ERRORED", end_reason="ERROR")

    def ended(reason: str, error: str, **_: object) -> TrialOutcome:
        outcome.end_reason, outcome.error = reason, error
        return outcome

    high = ExitInfo(returncode=-9, cpu_seconds=1.0, max_rss_mb=950)
    low = ExitInfo(returncode=-9, cpu_seconds=1.0, max_rss_mb=100)
    assert _classify_signal(9, limits, outcome, high, None, ended).end_reason == "OUT_OF_MEMORY"
    assert _classify_signal(9, limits, outcome, low, None, ended).end_reason == "SIGNAL"
    assert _classify_signal(9, limits, outcome, low, 990.0, ended).end_reason == "OUT_OF_MEMORY"
    assert "SIGKILL" in _classify_signal(9, limits, outcome, low, None, ended).error
    # Without an address-space limit (GPU trials) only an RSS near the machine's memory counts.
    no_limit = Limits(memory_mb=None)
    huge = ExitInfo(returncode=-9, cpu_seconds=1.0, max_rss_mb=10**9)
    assert _classify_signal(9, no_limit, outcome, huge, None, ended).end_reason == "OUT_OF_MEMORY"
    assert _classify_signal(9, no_limit, outcome, high, None, ended).end_reason == "SIGNAL"
    assert EndReason.OUT_OF_MEMORY == "OUT_OF_MEMORY"


def test_params_round_trip_through_the_runner(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, "good.py", "Good", {"epochs": 2, "lr": 0.5})
    outcome = run_trial(spec, str(tmp_path / "work"), FAST)
    params = load_params(outcome.params_path)
    assert isinstance(params["w"], np.ndarray) and params["w"].dtype == np.float64
    assert params["w"].tolist() == [1.0, 1.0, 1.0]


# --- the sandbox --------------------------------------------------------------------------

SANDBOXES = [
    "none",
    pytest.param(
        "bwrap",
        marks=pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap not installed/usable"),
    ),
]


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_end_reasons_are_the_same_with_and_without_bubblewrap(
    tmp_path: Path, still_works: None, sandbox: str
) -> None:
    limits = dataclasses.replace(FAST, sandbox=sandbox, cpu_seconds=2)
    cases = {
        "segfault": ("ERRORED", "SIGNAL"),
        "sys_exit": ("ERRORED", "NO_RESULT"),
        "spin": ("ERRORED", "CPU_LIMIT"),
        "raise": ("ERRORED", "ERROR"),
        "env": ("COMPLETED", "COMPLETED"),
    }
    for fault, expected in cases.items():
        outcome = run_fault(tmp_path / fault, fault, limits)
        assert (outcome.status, outcome.end_reason) == expected, (fault, outcome)
    stop_work = tmp_path / "stop"
    outcome = run_fault(
        stop_work, "grandchild", limits,
        should_stop=lambda: (stop_work / "work" / "grandchild.pid").exists(),
    )  # fmt: skip
    assert (outcome.status, outcome.end_reason) == ("STOPPED", "STOPPED")
    assert_gone(stop_work / "work")


@pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap not installed/usable")
def test_bubblewrap_confines_network_filesystem_and_tmp(tmp_path: Path, still_works: None) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    parent_tmp = tempfile.NamedTemporaryFile(prefix="rafiki-parent-")  # noqa: SIM115
    # Outside /tmp (which is private in the sandbox) and outside the system folders.
    read_only_dir = Path(tempfile.mkdtemp(prefix="rafiki-test-", dir="/var/tmp"))
    (read_only_dir / "secret").write_text("not for models")
    # The folder holding the rafiki package is the project here: its data folder (database,
    # secret key, users' files) sits beside the package and must stay out of sight.
    project = Path(rafiki_root())
    host_files = [str(read_only_dir / "secret"), str(project / "pyproject.toml")]
    try:
        batches: list[list[dict]] = []
        spec = make_spec(
            tmp_path, "faults.py", "Faulty", {"fault": "sandbox_probe"},
            train_args={
                "port": listener.getsockname()[1], "parent_tmp_file": parent_tmp.name,
                "read_only_dir": str(read_only_dir), "host_files": host_files,
            },
        )  # fmt: skip
        limits = dataclasses.replace(FAST, sandbox="bwrap")
        outcome = run_trial(spec, str(tmp_path / "work"), limits, on_events=batches.append)
        written = (read_only_dir / "written-by-model").exists()
    finally:
        listener.close()
        parent_tmp.close()
        shutil.rmtree(read_only_dir, ignore_errors=True)
    assert outcome.status == "COMPLETED", outcome
    probe = next(e["message"] for e in events_of(batches) if e["message"].startswith("PROBE "))
    found = json.loads(probe[6:])
    assert found["connect"] != "ok"  # its own network namespace: the host is unreachable
    assert found["parent_tmp_visible"] is False  # a private /tmp
    assert found["visible"] == []  # only system folders, the runtime and its own files
    assert found["write_outside"] == errno.ENOENT  # /var is not there at all
    assert found["write_system"] == errno.EROFS  # the system is read-only
    assert found["write_tmpdir"] == "ok"
    assert not written


WORKER = """
import sys
from rafiki.runner import Limits, run_trial
spec, workdir, sandbox, warm = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "warm"
import json
limits = Limits(wall_seconds=60, memory_mb=768, sandbox=sandbox, warm_start=warm)
run_trial(json.loads(spec), workdir, limits)
"""


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_the_trial_dies_with_a_killed_worker(tmp_path: Path, sandbox: str, start_mode: str) -> None:
    # A worker killed with SIGKILL cannot clean up: the trial must not run on unsupervised.
    spec = make_spec(tmp_path, "faults.py", "Faulty", {"fault": "sleep"})
    work = tmp_path / "work"
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(spec), str(work), sandbox, start_mode],
        env={**os.environ, "PYTHONPATH": rafiki_root()},
    )
    try:
        deadline = time.monotonic() + 20
        while not processes_mentioning(str(work)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_mentioning(str(work)), "the trial never started"
        time.sleep(0.5)
    finally:
        worker.kill()
        worker.wait()
    try:
        assert_gone(work)
    finally:
        for pid in processes_mentioning(str(work)):  # only when the test failed
            os.kill(pid, signal.SIGKILL)


def test_only_gpu_trials_get_the_gpu_device_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    from rafiki.runner import limits as limits_module

    monkeypatch.setattr(limits_module, "bwrap_path", lambda: "/usr/bin/bwrap")
    monkeypatch.setattr(
        limits_module, "gpu_device_nodes", lambda: ["/dev/nvidia0", "/dev/nvidiactl"]
    )
    argv = ["python", "-m", "x"]
    gpu = limits_module.sandbox_argv(argv, Limits(cuda_visible_devices="0"), ["/w"])
    cpu = limits_module.sandbox_argv(argv, Limits(), ["/w"])
    pairs = {(a, b) for a, b in itertools.pairwise(gpu) if a == "--dev-bind"}
    assert pairs == {("--dev-bind", "/dev/nvidia0"), ("--dev-bind", "/dev/nvidiactl")}
    assert "--dev-bind" not in cpu and "/dev/nvidia0" not in cpu
    assert gpu.index("--dev") < gpu.index("--dev-bind")  # on top of the minimal /dev
