"""Shared fixtures: named users, builders that upload through the services, and `drive`,
which runs a job's trials in this process (the Celery task body, without a broker)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import User
from apps.datasets.models import Dataset
from apps.datasets.services import dataset_create
from apps.models.models import ModelTemplate
from apps.models.services import model_template_create
from apps.trials.models import TrainJob, Trial
from apps.trials.services import train_job_create, train_job_schedule
from rafiki.constants import UserType

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
TOY_TASK = "TOY_TASK"


@pytest.fixture(scope="session")
def iris_csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """iris_{train,val,test}.csv built by the example builder (examples/data is not in git)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "tabular_builder", REPO / "examples" / "datasets" / "tabular.py"
    )
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    out = tmp_path_factory.mktemp("iris")
    builder.build_iris(str(out))
    return {split: out / f"iris_{split}.csv" for split in ("train", "val", "test")}


def upload(content: bytes | Path, name: str) -> SimpleUploadedFile:
    data = content.read_bytes() if isinstance(content, Path) else content
    return SimpleUploadedFile(name, data)


@pytest.fixture
def alice(db: None) -> User:
    return User.objects.create_user(
        "alice@example.com", "alice-pw", user_type=UserType.MODEL_DEVELOPER
    )


@pytest.fixture
def bob(db: None) -> User:
    return User.objects.create_user("bob@example.com", "bob-pw", user_type=UserType.APP_DEVELOPER)


@pytest.fixture
def make_model(alice: User) -> Callable[..., ModelTemplate]:
    def make(
        *,
        owner: User | None = None,
        name: str = "toy",
        file: str = "toy.py",
        class_name: str = "Toy",
        task: str = TOY_TASK,
        access_right: str = "PRIVATE",
    ) -> ModelTemplate:
        return model_template_create(
            owner=owner or alice,
            name=name,
            task=task,
            file=upload(FIXTURES / "models" / file, file),
            class_name=class_name,
            dependencies={},
            access_right=access_right,
        )

    return make


@pytest.fixture
def make_dataset(alice: User) -> Callable[..., Dataset]:
    def make(
        *,
        owner: User | None = None,
        name: str = "data",
        task: str = TOY_TASK,
        content: bytes = b"toy data\n",
    ) -> Dataset:
        return dataset_create(
            owner=owner or alice, name=name, task=task, file=upload(content, f"{name}.txt")
        )

    return make


@pytest.fixture
def make_job(alice: User, make_model, make_dataset) -> Callable[..., TrainJob]:
    def make(
        *,
        models: list[ModelTemplate] | None = None,
        budget: dict[str, Any] | None = None,
        train_args: dict[str, Any] | None = None,
        parallelism: int = 2,
        app: str = "toyapp",
    ) -> TrainJob:
        train = make_dataset(name="train")
        val = make_dataset(name="val")
        return train_job_create(
            owner=alice,
            app=app,
            task=TOY_TASK,
            train_dataset=train,
            val_dataset=val,
            models=models or [make_model()],
            budget=budget if budget is not None else {"MODEL_TRIAL_COUNT": 2},
            train_args=train_args or {},
            parallelism=parallelism,
        )

    return make


def drive(job: TrainJob, *, max_runs: int = 50) -> TrainJob:
    """Run the job's trials one by one through the `trials.run_trial` task body until the job
    is final (the scheduling the tasks would enqueue happens inside each run)."""
    from apps.trials.tasks import run_trial

    train_job_schedule(job_id=job.pk)
    for _ in range(max_runs):
        job.refresh_from_db()
        if job.is_final:
            return job
        pending = (
            Trial.objects.filter(job=job, status=Trial.Status.PENDING).order_by("number").first()
        )
        if pending is None:
            train_job_schedule(job_id=job.pk)
            continue
        run_trial(pending.pk)
    raise AssertionError(f"job {job} is still {job.status} after {max_runs} trial runs")


@pytest.fixture(autouse=True)
def _private_files(request: pytest.FixtureRequest, settings, tmp_path: Path) -> Path:
    """Each test gets its own file storage and worker folder (nothing leaks between tests).
    End-to-end tests keep the data folder's storage, which their worker processes share."""
    if request.node.get_closest_marker("e2e"):
        return Path(settings.MEDIA_ROOT)
    files = tmp_path / "files"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(files), "base_url": settings.MEDIA_URL},
        },
    }
    settings.WORKER_DIR = tmp_path / "worker"
    return files


def processes_mentioning(text: str) -> list[int]:
    """Live (not zombie) processes whose command line contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(") ", 1)[1][0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry))
    return found
