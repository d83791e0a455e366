"""The warm start (``rafiki.runner.zygote``): trials forked from a per-worker zygote must be
as isolated from each other as cold ones, and any zygote failure must fall back to a cold
start."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from pathlib import Path

import pytest

from rafiki.runner import Limits, run_trial, zygote
from rafiki.runner.limits import ConfinedProcess, bwrap_path
from tests.conftest import processes_mentioning

MODELS = Path(__file__).parent / "models"
FAST = Limits(wall_seconds=20, cpu_seconds=10, memory_mb=768, stop_grace_seconds=1.0)
SANDBOXES = [
    "none",
    pytest.param(
        "bwrap",
        marks=pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap not installed/usable"),
    ),
]


def spec_of(tmp_path: Path, model: str, cls: str, knobs: dict, **extra: object) -> dict:
    return {
        "model_file": str(MODELS / model),
        "model_class": cls,
        "knobs": knobs,
        "train_dataset_path": str(tmp_path / "data" / "train.zip"),
        "val_dataset_path": str(tmp_path / "data" / "val.zip"),
        **extra,
    }


def messages(batches: list[list[dict]]) -> list[str]:
    return [e.get("message", "") for b in batches for e in b]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What start_warm returned for each trial (None: it ran cold)."""
    got: list[object] = []
    real = zygote.start_warm

    def recording(*args: object, **kwargs: object) -> object:
        proc = real(*args, **kwargs)  # type: ignore[arg-type]
        got.append(proc)
        return proc

    monkeypatch.setattr(zygote, "start_warm", recording)
    yield got
    zygote.stop_zygote()


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_model_state_does_not_reach_the_next_trial(
    tmp_path: Path, served: list[object], sandbox: str
) -> None:
    limits = dataclasses.replace(FAST, sandbox=sandbox)
    draws: list[str] = []
    for i in range(3):
        batches: list[list[dict]] = []
        spec = spec_of(tmp_path, "tamper.py", "Tamper", {})
        outcome = run_trial(
            spec, str(tmp_path / "trials" / str(i)), limits, on_events=batches.append
        )
        assert outcome.status == "COMPLETED", outcome
        assert "SEEN [None, None, False]" in messages(batches)
        draws += [m for m in messages(batches) if m.startswith("RANDOM ")]
    assert len(set(draws)) == 3, draws  # each trial has its own random state
    assert len(served) == 3 and all(p is not None for p in served)
    # One zygote served all three (same roots), and it never imported the model file.
    pid = zygote.zygote_pids()[0]
    assert all(type(p).__name__ == "WarmProcess" for p in served)
    if sandbox == "none":
        with open(f"/proc/{pid}/maps") as f:
            assert "tamper" not in f.read()


@pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap not installed/usable")
def test_a_daemon_left_by_a_trial_is_killed_before_the_next_one(
    tmp_path: Path, served: list[object]
) -> None:
    # Under bubblewrap the zygote's pid namespace outlives one trial: the zygote empties it.
    marker = f"rafiki-daemon-{os.getpid()}-{time.monotonic_ns()}"
    limits = dataclasses.replace(FAST, sandbox="bwrap")
    spec = spec_of(tmp_path, "tamper.py", "Tamper", {}, train_args={"daemon_marker": marker})
    outcome = run_trial(spec, str(tmp_path / "trials" / "a"), limits)
    assert outcome.status == "COMPLETED", outcome
    assert served[0] is not None
    deadline = time.monotonic() + 5
    while processes_mentioning(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_mentioning(marker) == []


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_dead_zygote_is_replaced(tmp_path: Path, served: list[object], sandbox: str) -> None:
    limits = dataclasses.replace(FAST, sandbox=sandbox)
    good = spec_of(tmp_path, "good.py", "Good", {"epochs": 1, "lr": 0.1})
    assert run_trial(good, str(tmp_path / "trials" / "1"), limits).status == "COMPLETED"
    first = zygote.zygote_pids()
    os.killpg(first[0], signal.SIGKILL)
    time.sleep(0.2)
    assert run_trial(good, str(tmp_path / "trials" / "2"), limits).status == "COMPLETED"
    assert served[1] is not None and zygote.zygote_pids() != first


@pytest.mark.parametrize("sandbox", SANDBOXES)
def test_a_zygote_dying_mid_trial_ends_the_trial(
    tmp_path: Path, served: list[object], sandbox: str
) -> None:
    limits = dataclasses.replace(FAST, sandbox=sandbox)
    sleeper = spec_of(tmp_path, "faults.py", "Faulty", {"fault": "sleep"})
    work = tmp_path / "trials" / "sleep"
    killed: list[int] = []

    def kill_zygote() -> None:
        if not killed and processes_mentioning(str(work)):
            killed.extend(zygote.zygote_pids())
            os.killpg(killed[0], signal.SIGKILL)

    outcome = run_trial(sleeper, str(work), limits, on_heartbeat=kill_zygote)
    assert killed and outcome.status == "ERRORED" and outcome.end_reason == "NO_RESULT"
    deadline = time.monotonic() + 5
    while processes_mentioning(str(work)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_mentioning(str(work)) == []
    good = spec_of(tmp_path, "good.py", "Good", {"epochs": 1, "lr": 0.1})
    assert run_trial(good, str(tmp_path / "trials" / "after"), limits).status == "COMPLETED"


def test_a_zygote_that_cannot_start_falls_back_to_cold(
    tmp_path: Path, served: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("no zygote today")

    monkeypatch.setattr(zygote, "_start_zygote", broken)
    good = spec_of(tmp_path, "good.py", "Good", {"epochs": 1, "lr": 0.1})
    outcome = run_trial(good, str(tmp_path / "trials" / "1"), FAST)
    assert outcome.status == "COMPLETED" and served == [None]


def test_warm_start_false_is_the_cold_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[object] = []
    real_init = ConfinedProcess.__init__

    def spy(self: ConfinedProcess, *args: object, **kwargs: object) -> None:
        started.append(args[0])
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ConfinedProcess, "__init__", spy)
    good = spec_of(tmp_path, "good.py", "Good", {"epochs": 1, "lr": 0.1})
    limits = dataclasses.replace(FAST, warm_start=False)
    assert run_trial(good, str(tmp_path / "trials" / "1"), limits).status == "COMPLETED"
    assert len(started) == 1 and "rafiki.runner.trial" in started[0]


def test_outputs_outside_the_trials_root_run_cold(tmp_path: Path, served: list[object]) -> None:
    good = spec_of(
        tmp_path, "good.py", "Good", {"epochs": 1, "lr": 0.1},
        params_path=str(tmp_path / "elsewhere" / "params.rafiki"),
    )  # fmt: skip
    outcome = run_trial(good, str(tmp_path / "trials" / "1"), FAST)
    assert outcome.status == "COMPLETED" and served == [None]
