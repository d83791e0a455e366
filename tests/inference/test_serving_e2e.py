"""Serving end to end: real Redis, real `manage.py inference_worker` processes running the
models in the confined runner, the predictor reached through the admin API server exactly as
Rafiki's clients reach it (``http://{predictor_host}/predict``)."""

from __future__ import annotations

import io
import os
import signal
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as PageClient
from PIL import Image

from apps.api.services import token_create
from apps.inference.models import InferenceJob, InferenceWorker
from apps.inference.services import inference_job_create, inference_job_stop_all
from rafiki.client import Client, RafikiClientError
from rafiki.model import load_model_class
from rafiki.model.params import load_params
from rafiki.model.utils import utils
from tests.inference.conftest import post_json

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _client(serving, user) -> Client:
    client = Client(admin_host="127.0.0.1", admin_port=serving.port)
    _, client._token = token_create(user=user)
    return client


def _in_process_predictions(worker: InferenceWorker, queries: list) -> list:
    """What the served trial's model answers when called directly in this process."""
    trial = worker.trial
    model = trial.sub_job.model
    with model.model_file.open("rb") as f:
        clazz = load_model_class(f.read(), model.model_class)
    instance = clazz(**trial.knobs)
    instance.load_parameters(load_params(trial.params_file.path))
    return instance.predict(queries)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_image_job_served_ensembled_restarted_and_stopped(
    alice, serving, trained_image_job, digits, wait_for, wait_for_job, point_at_test_redis
) -> None:
    train_job = trained_image_job("SkLogisticRegression", "NumpyMlp")
    client = _client(serving, alice)
    created = client.create_inference_job("digits")
    job = wait_for_job(created["id"], "RUNNING", "ERRORED")
    assert job.status == "RUNNING", job.error
    workers = list(job.workers.select_related("trial__sub_job__model").order_by("rank"))
    # Top 2 by default, one per model where several were tuned.
    assert {w.trial.sub_job.model.name for w in workers} == {"SkLogisticRegression", "NumpyMlp"}
    assert workers[0].trial.score >= workers[1].trial.score
    assert job.train_job_id == train_job.pk

    images, classes = utils.dataset.load_dataset_of_image_files(digits["val"]).to_arrays()
    queries = np.asarray(images)[:20].tolist()
    running = client.get_running_inference_job("digits")
    assert running["predictor_host"] == created["predictor_host"]
    predict_url = f"http://{running['predictor_host']}/predict"

    # One query: {"query": q} -> {"prediction": p}, p a probability vector.
    one = post_json(predict_url, {"query": queries[0]})
    assert one.status_code == 200, one.text
    probs = one.json()["prediction"]
    assert len(probs) == 10 and abs(sum(probs) - 1) < 1e-6

    # Many through the client: the mean of the two trials' own probability vectors.
    many = client.predict("digits", queries)
    expected = np.mean([_in_process_predictions(w, queries) for w in workers], axis=0)
    np.testing.assert_allclose(np.asarray(many), expected, atol=1e-6)
    assert np.mean(np.argmax(many, axis=1) == np.asarray(classes[:20])) >= 0.8

    # A malformed query is the caller's 400, before any model sees it.
    bad = post_json(predict_url, {"queries": [queries[0], [[1, 2], [3]]]})
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidQueryError"
    assert "query 1" in bad.json()["detail"]

    # 50 concurrent clients, all answered with the ensembled prediction.
    with ThreadPoolExecutor(50) as pool:
        answers = list(
            pool.map(lambda i: post_json(predict_url, {"query": queries[i % 20]}), range(50))
        )
    assert [a.status_code for a in answers] == [200] * 50
    for i, answer in enumerate(answers):
        np.testing.assert_allclose(answer.json()["prediction"], expected[i % 20], atol=1e-6)

    # The best trial's model process is killed while requests are in flight: it is
    # restarted, the requests are still answered, the job keeps running.
    victim = InferenceWorker.objects.get(pk=workers[0].pk)
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(post_json, predict_url, {"queries": queries[:5]}) for _ in range(16)]
        os.killpg(victim.pid, signal.SIGKILL)
        answers = [f.result() for f in futures]
    assert [a.status_code for a in answers] == [200] * 16, answers[0].text
    for answer in answers:
        np.testing.assert_allclose(answer.json()["predictions"], expected[:5], atol=1e-6)
    wait_for(
        lambda: InferenceWorker.objects.get(pk=victim.pk).crashes == 1, "the crash to be recorded"
    )
    restarted = InferenceWorker.objects.get(pk=victim.pk)
    assert restarted.pid != victim.pid and restarted.status == "RUNNING"
    job.refresh_from_db()
    assert job.status == "RUNNING"

    # The job page's form: an uploaded PNG, answered with the most likely class.
    page = PageClient()
    page.force_login(alice)
    png = io.BytesIO()
    Image.fromarray(np.asarray(images[0], dtype=np.uint8)).save(png, format="PNG")
    shown = page.post(
        f"/inference/{job.pk}/predict", {"image": SimpleUploadedFile("digit.png", png.getvalue())}
    )
    assert shown.status_code == 200
    assert (
        f'<strong id="best-class">{int(np.argmax(expected[0]))}</strong>' in shown.content.decode()
    )
    not_an_image = page.post(
        f"/inference/{job.pk}/predict", {"image": SimpleUploadedFile("x.png", b"text")}
    )
    assert "not an image" in not_an_image.content.decode()

    # Stop: the job ends, the model processes end, the predictor says so.
    pids = list(job.workers.values_list("pid", flat=True))
    client.stop_inference_job("digits")
    job.refresh_from_db()
    assert job.status == "STOPPED"
    wait_for(lambda: not any(_pid_alive(p) for p in pids), "the model processes to end")
    gone = post_json(predict_url, {"query": queries[0]})
    assert gone.status_code == 400 and gone.json()["error"] == "InvalidRunningInferenceJobError"
    with pytest.raises(RafikiClientError) as e:
        client.get_running_inference_job("digits")
    assert e.value.error == "InvalidRunningInferenceJobError"


def test_model_errors_are_per_request_and_a_lost_worker_is_taken_over(
    alice, serving, trained_echo_job, wait_for, wait_for_job, point_at_test_redis
) -> None:
    trained_echo_job()
    client = _client(serving, alice)
    created = client.create_inference_job("echo")
    job = wait_for_job(created["id"], "RUNNING", "ERRORED")
    assert job.status == "RUNNING", job.error
    url = f"http://{created['predictor_host']}/predict"
    best_x = job.workers.get(rank=0).trial.knobs["x"]

    # Requests answered in one batch by the workers: only the one the model fails on errors.
    bodies = [{"query": "boom" if i == 3 else f"q{i}"} for i in range(10)]
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda b: post_json(url, b), bodies))
    failed = [i for i, a in enumerate(answers) if a.status_code != 200]
    assert failed == [3]
    assert answers[3].status_code == 500
    assert answers[3].json()["error"] == "ModelPredictError"
    assert "cannot predict 'boom'" in answers[3].json()["detail"]
    # A custom task takes the best trial's answer.
    assert answers[0].json()["prediction"] == {"echo": "q0", "x": best_x}

    # The job page's form takes a JSON query for tasks other than images.
    page = PageClient()
    page.force_login(alice)
    shown = page.post(f"/inference/{job.pk}/predict", {"query": '"hello"'}).content.decode()
    assert "&quot;echo&quot;: &quot;hello&quot;" in shown
    refused = page.post(f"/inference/{job.pk}/predict", {"query": "{oops"})
    assert refused.status_code == 400 and "not valid JSON" in refused.content.decode()

    # The inference worker process dies (its machine, say): after its heartbeat goes stale,
    # another inference worker takes its trials over and the job serves again.
    serving.cluster.kill(serving.workers[0])
    serving.inference_worker("w2")
    old = dict(job.workers.values_list("pk", "attempt"))
    wait_for(
        lambda: all(
            w.attempt > old[w.pk] and w.status == "RUNNING"
            for w in InferenceWorker.objects.filter(job=job)
        ),
        "the second inference worker to take over",
    )
    again = post_json(url, {"query": "still here"})
    assert again.status_code == 200, again.text
    assert again.json()["prediction"] == {"echo": "still here", "x": best_x}

    # "Stop all jobs" stops inference jobs too, and their model processes end.
    pids = list(job.workers.values_list("pid", flat=True))
    assert [j.pk for j in inference_job_stop_all()] == [job.pk]
    job.refresh_from_db()
    assert job.status == "STOPPED"
    wait_for(lambda: not any(_pid_alive(p) for p in pids), "the model processes to end")


def test_a_model_that_cannot_load_its_parameters_ends_the_job_errored(
    alice, serving, trained_echo_job, wait_for_job
) -> None:
    train_job = trained_echo_job("BrokenLoad", app="broken")
    job = inference_job_create(owner=alice, train_job=train_job)
    job = wait_for_job(job.pk, "ERRORED", "RUNNING")
    assert job.status == "ERRORED"
    assert "the weights file is corrupt" in job.error
    assert "load" in job.error
    assert InferenceWorker.objects.filter(job=job, status="ERRORED").exists()
    assert not InferenceWorker.objects.filter(job=job, status__in=["STARTING", "RUNNING"]).exists()
    # The train job can be deployed again (the errored job is not "running").
    assert InferenceJob.objects.filter(train_job=train_job).count() == 1


def test_a_model_that_keeps_crashing_ends_the_job_errored(
    alice, serving, trained_echo_job, wait_for_job, point_at_test_redis
) -> None:
    train_job = trained_echo_job(app="crashy")
    job = inference_job_create(owner=alice, train_job=train_job, max_trials=1)
    job = wait_for_job(job.pk, "RUNNING", "ERRORED")
    url = serving.url(f"/predictors/{job.predictor_key}/predict")
    # The query kills the model process: restarted and retried once, then that request fails
    # and the job serves on.
    first = post_json(url, {"query": "crash"})
    assert (first.status_code, first.json()["error"]) == (500, "ModelPredictError")
    assert "crashed" in first.json()["detail"]
    assert post_json(url, {"query": "fine"}).json()["prediction"]["echo"] == "fine"
    job.refresh_from_db()
    assert job.status == "RUNNING"
    assert job.workers.get().crashes == 2
    # The third crash within the window (INFERENCE_MAX_CRASHES) ends the job.
    second = post_json(url, {"query": "crash"})
    assert second.status_code == 500
    job.refresh_from_db()
    assert job.status == "ERRORED"
    assert "crashed 3 times" in job.error and "SIGKILL" in job.error
