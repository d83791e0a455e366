"""Inference jobs without worker processes: the rules of creating and stopping them, which
trials they serve, worker claims, and the routes (compat, /api/, predictor, pages)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client as PageClient
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.api.services import token_create
from apps.inference.models import InferenceJob, InferenceWorker
from apps.inference.services import (
    InvalidInferenceJobError,
    InvalidTrainJobError,
    RunningInferenceJobExistsError,
    inference_job_create,
    inference_job_stop,
    inference_worker_failed,
    inference_worker_ready,
    inference_worker_release,
    inference_workers_claim,
    inference_workers_heartbeat,
)
from apps.trials.models import SubTrainJob, TrainJob, Trial
from rafiki.constants import UserType

pytestmark = pytest.mark.django_db


def _params() -> str:
    import tempfile

    from rafiki.model.params import save_params

    with tempfile.NamedTemporaryFile(suffix=".rafiki") as f:
        save_params({"x": 1}, f.name)
        return default_storage.save("params/test/t.rafiki", ContentFile(open(f.name, "rb").read()))


@pytest.fixture
def stopped_job(make_job, make_model):
    """A STOPPED train job of two models with completed trials of the given scores."""

    def make(scores: dict[str, list[float]], app: str = "toyapp") -> TrainJob:
        models = [make_model(name=name) for name in scores]
        job = make_job(app=app, models=models)
        number = 0
        for sub in SubTrainJob.objects.filter(job=job).select_related("model"):
            for score in scores[sub.model.name]:
                number += 1
                Trial.objects.create(
                    job=job, sub_job=sub, number=number, knobs={"x": number, "name": "toy"},
                    status=Trial.Status.COMPLETED, score=score, params_file=_params(), is_params_saved=True,
                )  # fmt: skip
        Trial.objects.create(
            job=job, sub_job=sub, number=number + 1, knobs={"x": 0}, status=Trial.Status.ERRORED
        )
        TrainJob.objects.filter(pk=job.pk).update(status=TrainJob.Status.STOPPED)
        job.refresh_from_db()
        return job

    return make


def _served(job: InferenceJob) -> list[tuple[str, float]]:
    return [(w.trial.sub_job.model.name, w.trial.score) for w in job.workers.order_by("rank")]


def test_best_trials_are_served_one_per_model_first(alice, stopped_job) -> None:
    train_job = stopped_job({"lr": [0.9, 0.8], "mlp": [0.7, 0.95]})
    job = inference_job_create(owner=alice, train_job=train_job)
    assert (job.status, job.max_trials) == ("STARTED", 2)
    assert _served(job) == [("mlp", 0.95), ("lr", 0.9)]
    inference_job_stop(job=job)
    three = inference_job_create(owner=alice, train_job=train_job, max_trials=3)
    assert _served(three) == [("mlp", 0.95), ("lr", 0.9), ("lr", 0.8)]
    inference_job_stop(job=three)
    one = inference_job_create(owner=alice, train_job=train_job, max_trials=1)
    assert _served(one) == [("mlp", 0.95)]


def test_a_single_model_serves_its_top_trials(alice, stopped_job) -> None:
    job = inference_job_create(owner=alice, train_job=stopped_job({"lr": [0.5, 0.9, 0.7]}))
    assert _served(job) == [("lr", 0.9), ("lr", 0.7)]


def test_only_a_stopped_train_job_of_yours_with_parameters_can_be_served(
    alice, bob, make_job, stopped_job
) -> None:
    running = make_job(app="running")
    with pytest.raises(InvalidTrainJobError, match="STARTED"):
        inference_job_create(owner=alice, train_job=running)
    train_job = stopped_job({"lr": [0.9]}, app="done")
    with pytest.raises(InvalidTrainJobError, match="not one of your jobs"):
        inference_job_create(owner=bob, train_job=train_job)
    Trial.objects.filter(job=train_job).update(is_params_saved=False)
    with pytest.raises(InvalidTrainJobError, match="no completed trial with saved parameters"):
        inference_job_create(owner=alice, train_job=train_job)


def test_one_running_inference_job_per_train_job(alice, stopped_job) -> None:
    train_job = stopped_job({"lr": [0.9]})
    job = inference_job_create(owner=alice, train_job=train_job)
    with pytest.raises(RunningInferenceJobExistsError):
        inference_job_create(owner=alice, train_job=train_job)
    stopped = inference_job_stop(job=job)
    assert stopped.status == "STOPPED" and stopped.datetime_stopped is not None
    assert set(job.workers.values_list("status", flat=True)) == {"STOPPED"}
    assert inference_job_stop(job=stopped).datetime_stopped == stopped.datetime_stopped  # no-op
    assert inference_job_create(owner=alice, train_job=train_job).status == "STARTED"


def test_worker_claims_heartbeats_takeover_and_readiness(alice, stopped_job, settings) -> None:
    settings.INFERENCE_STALE_SECONDS = 5
    job = inference_job_create(owner=alice, train_job=stopped_job({"lr": [0.9], "mlp": [0.8]}))
    a = inference_workers_claim(host="a:1", limit=1)
    b = inference_workers_claim(host="b:1", limit=5)
    assert len(a) == 1 and len(b) == 1 and a[0][0] != b[0][0]
    assert inference_workers_claim(host="c:1", limit=5) == []  # both held, hearts beating
    assert inference_worker_ready(worker_id=a[0][0], attempt=a[0][1], pid=123)
    job.refresh_from_db()
    assert job.status == "STARTED"  # one trial still loading
    # b's machine goes silent: c takes its trial over, and b's claim is gone.
    later = timezone.now() + timedelta(seconds=6)
    InferenceWorker.objects.filter(pk=a[0][0]).update(heartbeat_at=later)
    (taken,) = inference_workers_claim(host="c:1", limit=5, now=later)
    assert taken == (b[0][0], b[0][1] + 1)
    assert inference_workers_heartbeat(host="b:1", held=b) == set()
    assert not inference_worker_ready(worker_id=b[0][0], attempt=b[0][1], pid=1)
    assert inference_worker_ready(worker_id=taken[0], attempt=taken[1], pid=456)
    job.refresh_from_db()
    assert job.status == "RUNNING"
    # A shutting-down worker gives its trial back at once.
    assert inference_worker_release(host="c:1", held=[taken]) == 1
    assert inference_workers_claim(host="d:1", limit=5)[0][0] == taken[0]


def test_a_worker_that_cannot_load_ends_the_job_errored_with_the_reason(alice, stopped_job) -> None:
    job = inference_job_create(owner=alice, train_job=stopped_job({"lr": [0.9], "mlp": [0.8]}))
    (claim,) = inference_workers_claim(host="a:1", limit=1)
    inference_worker_failed(
        worker_id=claim[0], attempt=claim[1], error="RuntimeError: corrupt", traceback="tb"
    )
    job.refresh_from_db()
    assert job.status == "ERRORED"
    assert job.error.endswith("(lr): RuntimeError: corrupt") and job.error.startswith("trial ")
    assert dict(job.workers.values_list("rank", "status")) == {0: "ERRORED", 1: "STOPPED"}
    assert inference_workers_claim(host="b:1", limit=5) == []


# --- routes -----------------------------------------------------------------------------------


def _compat(user) -> APIClient:
    client = APIClient()
    _, raw = token_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.urls("apps.compat.urls")
def test_compat_routes_create_list_get_and_stop(alice, stopped_job, settings) -> None:
    settings.PREDICTOR_HOST = "rafiki.example:3000"
    stopped_job({"lr": [0.9]})
    client = _compat(alice)
    created = client.post(
        "/inference_jobs", {"app": "toyapp", "app_version": -1}, format="json"
    ).json()
    job = InferenceJob.objects.get()
    assert created == {
        "id": job.pk, "train_job_id": job.train_job_id, "app": "toyapp", "app_version": 1,
        "predictor_host": f"rafiki.example:3000/predictors/{job.predictor_key}",
    }  # fmt: skip
    assert len(job.predictor_key) >= 24
    (listed,) = client.get("/inference_jobs").json()
    assert (listed["id"], listed["status"], listed["datetime_stopped"]) == (job.pk, "STARTED", None)
    assert client.get("/inference_jobs/toyapp").json() == [listed]
    running = client.get("/inference_jobs/toyapp/1").json()
    assert running["predictor_host"] == created["predictor_host"]
    again = client.post("/inference_jobs", {"app": "toyapp"}, format="json")
    assert (again.status_code, again.json()["error"]) == (400, "RunningInferenceJobExistsError")
    stopped = client.post("/inference_jobs/toyapp/1/stop").json()
    assert stopped == {
        "id": job.pk,
        "train_job_id": job.train_job_id,
        "app": "toyapp",
        "app_version": 1,
    }
    gone = client.get("/inference_jobs/toyapp/1")
    assert (gone.status_code, gone.json()["error"]) == (400, "InvalidRunningInferenceJobError")


@pytest.mark.urls("apps.compat.urls")
def test_stop_all_jobs_stops_inference_jobs(alice, stopped_job) -> None:
    superadmin = User.objects.create_user(
        "superadmin@rafiki",
        "super-pw",
        user_type=UserType.SUPERADMIN,
        is_staff=True,
        is_superuser=True,
    )
    job = inference_job_create(owner=alice, train_job=stopped_job({"lr": [0.9]}))
    body = _compat(superadmin).post("/actions/stop_all_jobs").json()
    assert body["stopped_inference_job_ids"] == [job.pk]
    job.refresh_from_db()
    assert job.status == "STOPPED"


def test_predictor_refuses_what_it_cannot_serve(alice, stopped_job, settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    job = inference_job_create(owner=alice, train_job=stopped_job({"lr": [0.9]}))
    client = APIClient()
    url = f"/predictors/{job.predictor_key}/predict"

    def post(body: object) -> tuple[int, str]:
        response = client.post(url, body, format="json")
        return response.status_code, response.json()["error"]

    assert post({"query": 1}) == (400, "InvalidRunningInferenceJobError")  # still loading
    InferenceJob.objects.filter(pk=job.pk).update(status="RUNNING")
    assert post({"q": 1}) == (400, "InvalidQueryError")
    assert post({"queries": []}) == (400, "InvalidQueryError")
    assert post({"query": 1}) == (503, "PredictorUnavailableError")
    assert client.post(url, "not json", content_type="application/json").status_code == 400
    assert client.get(url).status_code == 405
    missing = client.post("/predictors/not-a-key/predict", {"query": 1}, format="json")
    assert (missing.status_code, missing.json()["error"]) == (
        404,
        "InvalidRunningInferenceJobError",
    )


def test_api_routes_for_the_owner_only(alice, bob, stopped_job) -> None:
    train_job = stopped_job({"lr": [0.9], "mlp": [0.8]})
    owner, other = _compat(alice), _compat(bob)
    created = owner.post(
        "/api/inference-jobs/", {"train_job_id": train_job.pk, "max_trials": 1}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "STARTED" and [w["model_name"] for w in body["workers"]] == ["lr"]
    job_id = body["id"]
    assert owner.get("/api/inference-jobs/").json()["results"][0]["id"] == job_id
    assert other.get(f"/api/inference-jobs/{job_id}/").status_code == 404
    assert (
        other.post(
            f"/api/inference-jobs/{job_id}/predict/", {"query": 1}, format="json"
        ).status_code
        == 404
    )
    refused = other.post("/api/inference-jobs/", {"train_job_id": train_job.pk}, format="json")
    assert refused.status_code == 404
    loading = owner.post(f"/api/inference-jobs/{job_id}/predict/", {"query": 1}, format="json")
    assert (loading.status_code, loading.json()["error"]) == (
        400,
        "InvalidRunningInferenceJobError",
    )
    assert owner.post(f"/api/inference-jobs/{job_id}/stop/").json()["status"] == "STOPPED"


def test_pages_deploy_show_and_stop(alice, bob, stopped_job) -> None:
    train_job = stopped_job({"lr": [0.9]})
    page = PageClient()
    page.force_login(alice)
    listing = page.get("/inference/").content.decode()
    assert f'<option value="{train_job.pk}">toyapp v1 (TOY_TASK)</option>' in listing
    response = page.post("/inference/new", {"train_job": train_job.pk, "max_trials": 2})
    job = InferenceJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/inference/{job.pk}/"
    detail = page.get(f"/inference/{job.pk}/").content.decode()
    assert f"/predictors/{job.predictor_key}/predict" in detail
    assert "available while the job is RUNNING" in detail
    other = PageClient()
    other.force_login(bob)
    assert other.get(f"/inference/{job.pk}/").status_code == 404
    assert other.post(f"/inference/{job.pk}/stop").status_code == 404
    page.post(f"/inference/{job.pk}/stop")
    job.refresh_from_db()
    assert job.status == "STOPPED"
    again = page.post("/inference/new", {"train_job": train_job.pk, "max_trials": "x"}, follow=True)
    assert InferenceJob.objects.count() == 1 and "messages" in again.context


def test_a_trial_whose_files_are_gone_ends_the_job_errored(alice, stopped_job) -> None:
    from apps.inference.worker import TrialServer, _GiveUp

    job = inference_job_create(owner=alice, train_job=stopped_job({"lr": [0.9]}))
    default_storage.delete(job.workers.get().trial.params_file.name)
    ((worker_id, attempt),) = inference_workers_claim(host="a:1", limit=1)
    with pytest.raises(_GiveUp):
        TrialServer(worker_id, attempt)._serve()  # the thread's body, in this test's transaction
    job.refresh_from_db()
    assert job.status == "ERRORED"
    assert "parameters could not be fetched" in job.error


class _FakeServedModel:
    """Stands in for the confined model process: records the limits it was started with."""

    started: ClassVar[list[Any]] = []

    def __init__(self, spec: dict[str, Any], workdir: str, limits: Any) -> None:
        self.limits = limits
        self.workdir = workdir
        self.pid = 4242

    def start(self, timeout: float) -> None:
        _FakeServedModel.started.append(self.limits)

    def close(self) -> str:
        return ""


def _serve_once(worker_id: int, attempt: int) -> Any:
    """The worker thread's body up to its first wait for queries; the limits it used."""
    from apps.inference.worker import TrialServer

    _FakeServedModel.started.clear()
    server = TrialServer(worker_id, attempt)
    server.stopping.set()  # load, report ready, then leave the request loop at once
    server._serve()
    (limits,) = _FakeServedModel.started
    return limits


def test_a_gpu_budget_without_a_gpu_worker_serves_on_cpu_and_says_so(
    alice, stopped_job, monkeypatch, settings
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # the bus is made, never used
    monkeypatch.setattr("apps.inference.worker.ServedModel", _FakeServedModel)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    train_job = stopped_job({"lr": [0.9], "mlp": [0.8]})
    with pytest.raises(InvalidInferenceJobError):
        inference_job_create(owner=alice, train_job=train_job, budget={"GPU_COUNT": -1})
    job = inference_job_create(owner=alice, train_job=train_job, budget={"GPU_COUNT": 1})
    for worker_id, attempt in inference_workers_claim(host="cpu-box:1", limit=5):
        limits = _serve_once(worker_id, attempt)
        assert limits.cuda_visible_devices == ""  # no GPU to give: the model runs on CPU
    job.refresh_from_db()
    assert job.status == "RUNNING"  # served all the same
    numbers = sorted(job.workers.values_list("trial__number", flat=True))
    assert job.note.splitlines() == [
        f"Trial {n} is served on CPU: GPU_COUNT is 1 but the inference worker serving it has "
        "no GPU (it was started without CUDA_VISIBLE_DEVICES)."
        for n in numbers
    ]
    assert _compat(alice).get(f"/api/inference-jobs/{job.pk}/").json()["note"] == job.note
    page = PageClient()
    page.force_login(alice)
    shown = page.get(f"/inference/{job.pk}/").content.decode()
    assert f"Trial {numbers[0]} is served on CPU" in shown and 'id="inference-note"' in shown
    inference_job_stop(job=job)

    # A worker started with a GPU gives it to a job that asks for one, and only to such a job.
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    gpu_job = inference_job_create(
        owner=alice, train_job=train_job, budget={"GPU_COUNT": 1}, max_trials=1
    )
    ((worker_id, attempt),) = inference_workers_claim(host="gpu-box:1", limit=5)
    limits = _serve_once(worker_id, attempt)
    assert (limits.cuda_visible_devices, limits.memory_mb) == ("0", None)
    gpu_job.refresh_from_db()
    assert gpu_job.note == ""
    inference_job_stop(job=gpu_job)
    cpu_job = inference_job_create(owner=alice, train_job=train_job, max_trials=1)
    ((worker_id, attempt),) = inference_workers_claim(host="gpu-box:1", limit=5)
    assert _serve_once(worker_id, attempt).cuda_visible_devices == ""
    cpu_job.refresh_from_db()
    assert cpu_job.note == ""
