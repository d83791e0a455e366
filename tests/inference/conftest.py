# ruff: noqa: F811 - the e2e fixtures (cluster, wait_for) are imported to be used here
"""Fixtures for serving tests: the digits image datasets, trained jobs, and a serving stack
(a real Redis, real `manage.py inference_worker` processes and the admin API server)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from apps.accounts.models import User
from apps.datasets.services import dataset_create
from apps.inference.models import InferenceJob
from apps.models.models import ModelTemplate
from apps.models.services import model_template_create
from apps.trials.models import TrainJob
from apps.trials.services import train_job_create
from tests.conftest import REPO, TOY_TASK, drive, upload
from tests.e2e.conftest import Cluster, _free_port, cluster, wait_for  # noqa: F401 (fixtures)

IMAGE_MODELS = REPO / "examples" / "models" / "image_classification"
ECHO = Path(__file__).parent / "fixtures" / "echo.py"

#: Short timings, so that a lost inference worker is noticed within seconds.
FAST_INFERENCE_ENV = {
    "INFERENCE_POLL_SECONDS": "0.2",
    "INFERENCE_STALE_SECONDS": "3",
    "INFERENCE_PREDICT_TIMEOUT_SECONDS": "30",
    "INFERENCE_LOAD_TIMEOUT_SECONDS": "60",
}


@pytest.fixture(scope="session")
def digits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    sys.path.insert(0, str(REPO / "examples"))
    try:
        from datasets.image_digits import build_digits
    finally:
        sys.path.remove(str(REPO / "examples"))
    return build_digits(str(tmp_path_factory.mktemp("digits")), image_size=8)


def model_upload(owner: User, path: Path, class_name: str, task: str) -> ModelTemplate:
    return model_template_create(
        owner=owner,
        name=class_name,
        task=task,
        file=upload(path, path.name),
        class_name=class_name,
        dependencies={},
        access_right="PRIVATE",
    )


def _drive(job: TrainJob) -> TrainJob:
    """Train in this process, then stop the runner's warm-start zygote that training left in
    it (tests elsewhere check that this process has no child left)."""
    from rafiki.runner.zygote import stop_zygote

    try:
        return drive(job)
    finally:
        stop_zygote()


@pytest.fixture
def trained_image_job(alice: User, digits: dict[str, str]) -> Callable[..., TrainJob]:
    """A STOPPED IMAGE_CLASSIFICATION job of the given example models (2 trials each)."""

    def make(*class_names: str, app: str = "digits", trials_per_model: int = 2) -> TrainJob:
        train = dataset_create(
            owner=alice,
            name="train",
            task="IMAGE_CLASSIFICATION",
            file=upload(Path(digits["train"]), "train.zip"),
        )
        val = dataset_create(
            owner=alice,
            name="val",
            task="IMAGE_CLASSIFICATION",
            file=upload(Path(digits["val"]), "val.zip"),
        )
        models = [
            model_upload(alice, IMAGE_MODELS / f"{n}.py", n, "IMAGE_CLASSIFICATION")
            for n in class_names
        ]
        job = train_job_create(
            owner=alice,
            app=app,
            task="IMAGE_CLASSIFICATION",
            train_dataset=train,
            val_dataset=val,
            models=models,
            budget={"MODEL_TRIAL_COUNT": trials_per_model},
            train_args={},
        )
        job = _drive(job)
        assert job.status == TrainJob.Status.STOPPED, job.error
        return job

    return make


@pytest.fixture
def trained_echo_job(alice: User, make_dataset) -> Callable[..., TrainJob]:
    """A STOPPED custom-task job of a model class in fixtures/echo.py (2 trials)."""

    def make(class_name: str = "Echo", app: str = "echo") -> TrainJob:
        job = train_job_create(
            owner=alice,
            app=app,
            task=TOY_TASK,
            train_dataset=make_dataset(name="train"),
            val_dataset=make_dataset(name="val"),
            models=[model_upload(alice, ECHO, class_name, TOY_TASK)],
            budget={"MODEL_TRIAL_COUNT": 2},
            train_args={},
        )
        job = _drive(job)
        assert job.status == TrainJob.Status.STOPPED, job.error
        return job

    return make


class Serving:
    """The admin API server (predictor included) and inference workers on one Redis."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.port = _free_port()
        self.env = {**cluster.env, **FAST_INFERENCE_ENV, "PREDICTOR_HOST": f"127.0.0.1:{self.port}"}
        self.admin = cluster.web_server("admin-api", self.port, self.env, admin_api=True)
        self.workers: list[subprocess.Popen] = []

    def inference_worker(self, name: str) -> subprocess.Popen:
        env = {**self.env, "RAFIKI_WORKER_DIR": str(self.cluster.root / f"inference-{name}")}
        proc = self.cluster._spawn(
            f"inference-{name}", [sys.executable, "manage.py", "inference_worker"], env
        )
        self.workers.append(proc)
        return proc

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture(scope="module")
def serving(cluster: Cluster) -> Serving:
    stack = Serving(cluster)
    stack.inference_worker("w1")
    return stack


@pytest.fixture
def point_at_test_redis(settings, cluster: Cluster) -> None:
    """This process's services (stop drops the waiting requests) use the test Redis."""
    settings.REDIS_URL = cluster.redis_url


@pytest.fixture
def wait_for_job(wait_for) -> Callable[..., InferenceJob]:
    def wait_status(job_id: int, *statuses: str, timeout: float = 60.0) -> InferenceJob:
        job = InferenceJob.objects.get(pk=job_id)

        def reached() -> bool:
            job.refresh_from_db()
            return job.status in statuses

        wait_for(reached, f"inference job {job_id} to be {' or '.join(statuses)}", timeout)
        return job

    return wait_status


def post_json(url: str, body: Any, timeout: float = 60.0) -> requests.Response:
    return requests.post(url, json=body, timeout=timeout)
