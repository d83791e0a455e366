"""The serving child under the trial runner's confinement, driven directly (no Django)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest

from rafiki.model.params import save_params
from rafiki.runner.limits import Limits
from rafiki.runner.serving import ModelCrashedError, ModelLoadError, ModelPredictError, ServedModel

ECHO = Path(__file__).parent / "fixtures" / "echo.py"


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Secrets in the parent's environment must not reach the model.
    monkeypatch.setenv("REDIS_URL", "redis://secret-host:6379/0")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:pw@db/rafiki")
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    params = tmp_path / "params.rafiki"
    save_params({"x": 7, "w": np.zeros(2)}, str(params))

    def make(class_name: str = "Echo") -> ServedModel:
        spec = {
            "model_file": str(ECHO),
            "model_class": class_name,
            "knobs": {"x": 1},
            "params_path": str(params),
        }
        model = ServedModel(spec, str(tmp_path / "work"), Limits(wall_seconds=600, memory_mb=1024))
        started.append(model)
        return model

    started: list[ServedModel] = []
    yield make
    for model in started:
        model.close()


def test_loads_parameters_once_and_answers_batches(served) -> None:
    model = served()
    model.start(timeout=60)
    assert model.predict(["a", "b"], timeout=30) == [{"echo": "a", "x": 7}, {"echo": "b", "x": 7}]
    assert model.predict([[1, 2]], timeout=30) == [{"echo": [1, 2], "x": 7}]


def test_requests_encoded_by_the_web_are_answered_in_one_batch_without_decoding(served) -> None:
    model = served()
    model.start(timeout=60)
    # Two requests' queries as the bus carries them: JSON arrays, passed on as they are.
    assert model.predict_encoded(['["a","b"]', '[ {"n": 1} ]'], 3, timeout=30) == [
        {"echo": "a", "x": 7},
        {"echo": "b", "x": 7},
        {"echo": {"n": 1}, "x": 7},
    ]
    # A request that is not JSON fails alone; the model serves on.
    with pytest.raises(ModelPredictError) as e:
        model.predict_encoded(["[oops"], 1, timeout=30)
    assert e.value.error == "the request is not JSON"
    assert model.predict(["ok"], timeout=30) == [{"echo": "ok", "x": 7}]


def test_a_model_error_is_that_batch_s_and_the_model_keeps_serving(served) -> None:
    model = served()
    model.start(timeout=60)
    with pytest.raises(ModelPredictError) as e:
        model.predict(["ok", "boom"], timeout=30)
    assert e.value.error == "ValueError: cannot predict 'boom'"
    assert "Traceback" in e.value.traceback
    assert model.predict(["ok"], timeout=30) == [{"echo": "ok", "x": 7}]


def test_a_load_failure_is_reported_with_the_model_s_error(served) -> None:
    model = served("BrokenLoad")
    with pytest.raises(ModelLoadError) as e:
        model.start(timeout=60)
    assert e.value.error == "RuntimeError: the weights file is corrupt"
    assert not model.running


def test_a_crash_is_reported_and_a_restart_serves_again(served) -> None:
    model = served()
    model.start(timeout=60)
    with pytest.raises(ModelCrashedError) as e:
        model.predict(["crash"], timeout=30)
    assert "SIGKILL" in str(e.value)
    model.restart(timeout=60)
    assert model.predict(["again"], timeout=30) == [{"echo": "again", "x": 7}]
    os.killpg(model.pid, signal.SIGKILL)  # killed from outside between requests
    with pytest.raises(ModelCrashedError):
        model.predict(["x"], timeout=30)


def test_the_model_sees_no_secrets_and_its_prints_do_not_block_it(served) -> None:
    model = served()
    model.start(timeout=60)
    (names,) = model.predict(["env"], timeout=30)
    assert not {"REDIS_URL", "DATABASE_URL", "SECRET_KEY"} & set(names)
    # 5 MB on stdout, far more than a pipe holds, while the parent waits for the reply.
    assert model.predict(["shout"], timeout=30) == [{"echo": "shout", "x": 7}]
