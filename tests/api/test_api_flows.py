"""What a script does through `/api/`: upload, start a job, page through lists, sort trials,
tail logs with a cursor, download parameters in the safe format."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import User
from apps.trials.models import TrainJob
from rafiki.model.params import load_params
from tests.api_fixtures import World, assert_error
from tests.conftest import FIXTURES, TOY_TASK, drive


def test_upload_model_and_datasets_then_start_and_stop_a_job(alice: User, client_for) -> None:
    client = client_for(alice)
    model = client.post(
        "/api/models/",
        {
            "name": "toy",
            "task": TOY_TASK,
            "model_class": "Toy",
            "dependencies": json.dumps({"numpy": "1.26"}),
            "model_file": SimpleUploadedFile(
                "toy.py", (FIXTURES / "models" / "toy.py").read_bytes()
            ),
        },
        format="multipart",
    )
    assert model.status_code == 201, model.content
    assert model.json()["access_right"] == "PRIVATE" and model.json()["knob_config"]
    ids = []
    for name in ("train", "val"):
        made = client.post(
            "/api/datasets/",
            {"name": name, "task": TOY_TASK, "dataset": SimpleUploadedFile("d.txt", b"1,2\n")},
            format="multipart",
        )
        assert made.status_code == 201 and made.json()["size_bytes"] == 4
        ids.append(made.json()["id"])
    job = client.post(
        "/api/train-jobs/",
        {
            "app": "demo",
            "task": TOY_TASK,
            "train_dataset_id": ids[0],
            "val_dataset_id": ids[1],
            "model_ids": [model.json()["id"]],
            "budget": {"MODEL_TRIAL_COUNT": 3},
        },
        format="json",
    )
    assert job.status_code == 201, job.content
    assert job.json()["app_version"] == 1 and job.json()["status"] == "STARTED"
    assert job.json()["budget"]["MODEL_TRIAL_COUNT"] == 3
    by_app = client.get("/api/apps/demo/versions/-1/").json()
    assert by_app["id"] == job.json()["id"]
    stopped = client.post(f"/api/train-jobs/{job.json()['id']}/stop/")
    assert stopped.status_code == 200 and stopped.json()["status"] == "STOPPED"
    file = client.get(f"/api/models/{model.json()['id']}/file/")
    assert file["Content-Type"] == "application/octet-stream"
    assert b"".join(file.streaming_content) == (FIXTURES / "models" / "toy.py").read_bytes()


def test_lists_are_paginated(alice: User, make_dataset, client_for) -> None:
    for i in range(5):
        make_dataset(name=f"d{i}")
    client = client_for(alice)
    first = client.get("/api/datasets/", {"page_size": 2}).json()
    assert first["count"] == 5 and len(first["results"]) == 2 and first["next"]
    last = client.get("/api/datasets/", {"page_size": 2, "page": 3}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    assert_error(client.get("/api/datasets/", {"page": 9}), 404, "NotFoundError")


def test_trials_ordering_best_detail_logs_cursor_and_params(
    alice: User, make_job, client_for
) -> None:
    job = drive(make_job(budget={"MODEL_TRIAL_COUNT": 3}))
    assert job.status == TrainJob.Status.STOPPED
    client = client_for(alice)
    by_score = client.get(f"/api/train-jobs/{job.pk}/trials/", {"ordering": "-score"}).json()[
        "results"
    ]
    scores = [t["score"] for t in by_score]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    by_number = client.get(f"/api/train-jobs/{job.pk}/trials/").json()["results"]
    assert [t["no"] for t in by_number] == [1, 2, 3]
    assert_error(
        client.get(f"/api/train-jobs/{job.pk}/trials/", {"ordering": "nope"}),
        400,
        "InvalidRequestError",
    )

    best = client.get(f"/api/train-jobs/{job.pk}/best-trials/", {"max_count": 2}).json()
    assert [t["score"] for t in best] == scores[:2]
    trial = client.get(f"/api/trials/{best[0]['id']}/").json()
    assert trial["model_name"] == "toy" and trial["knobs"] == trial["proposal"]["knobs"]

    logs = client.get(f"/api/trials/{trial['id']}/logs/", {"limit": 2}).json()
    assert (
        logs["has_more"] and len(logs["messages"]) + len(logs["metrics"]) + len(logs["plots"]) == 2
    )
    rest = client.get(f"/api/trials/{trial['id']}/logs/", {"after": logs["last_id"]}).json()
    assert not rest["has_more"] and rest["last_id"] > logs["last_id"]
    everything = client.get(f"/api/trials/{trial['id']}/logs/").json()
    assert len(everything["messages"]) == len(logs["messages"]) + len(rest["messages"]) == 3
    nothing_new = client.get(
        f"/api/trials/{trial['id']}/logs/", {"after": everything["last_id"]}
    ).json()
    assert nothing_new["messages"] == [] and nothing_new["last_id"] == everything["last_id"]

    params = client.get(f"/api/trials/{trial['id']}/parameters/")
    assert params.status_code == 200 and params["Content-Type"] == "application/octet-stream"
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".rafiki") as handle:
        handle.write(params.content)
        handle.flush()
        loaded = load_params(handle.name)
    assert loaded  # the safe format, readable without pickle


def test_admin_reads_another_users_trial_but_lists_only_own_jobs(world: World, client_for) -> None:
    client = client_for(world.admin)
    assert client.get(f"/api/trials/{world.trial.pk}/logs/").status_code == 200
    assert client.get("/api/train-jobs/").json()["count"] == 0  # the list is the admin's own jobs
