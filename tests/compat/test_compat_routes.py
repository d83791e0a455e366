"""The Rafiki-compatible admin API answers every route of COMPAT.md section 5 as Rafiki's
client expects: status 200, exact content types, the listed fields, error names in the body."""

from __future__ import annotations

import json
import pickle
import sys
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.api.models import ApiToken
from apps.trials.models import TrainJob, Trial
from rafiki.model.params import MAGIC
from tests.api_fixtures import assert_error
from tests.conftest import FIXTURES, REPO, TOY_TASK, drive

pytestmark = pytest.mark.urls("apps.compat.urls")


def ok(response) -> object:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/json"
    return response.json()


def login(email: str, password: str) -> APIClient:
    client = APIClient()
    body = ok(client.post("/tokens", {"email": email, "password": password}, format="json"))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    return client


def toy_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("toy.py", (FIXTURES / "models" / "toy.py").read_bytes())


# --- tokens and users -----------------------------------------------------------------------


def test_tokens_answer_user_id_type_and_a_token_valid_one_hour(alice: User) -> None:
    body = ok(
        APIClient().post(
            "/tokens", {"email": "alice@example.com", "password": "alice-pw"}, format="json"
        )
    )
    assert set(body) == {"user_id", "user_type", "token"}
    assert body["user_id"] == alice.pk and body["user_type"] == "MODEL_DEVELOPER"
    token = ApiToken.objects.get(user=alice)
    lifetime = token.expires_at - token.created
    assert timedelta(minutes=59) < lifetime <= timedelta(hours=1)


def test_tokens_accept_a_form_body_and_the_query_string(alice: User) -> None:
    client = APIClient()
    ok(client.post("/tokens", {"email": "alice@example.com", "password": "alice-pw"}))  # form
    ok(client.post("/tokens?email=alice@example.com&password=alice-pw"))


def test_wrong_password_and_expired_token_are_unauthorized(alice: User) -> None:
    client = APIClient()
    assert_error(
        client.post("/tokens", {"email": "alice@example.com", "password": "nope"}, format="json"),
        401,
        "UnauthorizedError",
    )
    logged_in = login("alice@example.com", "alice-pw")
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(logged_in.get("/datasets"), 401, "UnauthorizedError")
    assert_error(APIClient().get("/datasets"), 401, "UnauthorizedError")


def test_admin_creates_lists_and_bans_users(superadmin: User) -> None:
    root = login("superadmin@rafiki", "super-pw")
    created = ok(
        root.post(
            "/users",
            {"email": "dev@rafiki", "password": "pw", "user_type": "APP_DEVELOPER"},
            format="json",
        )
    )
    assert set(created) == {"id", "email", "user_type"} | {"banned_date"} or set(created) >= {
        "id",
        "email",
        "user_type",
    }
    assert created["email"] == "dev@rafiki" and created["user_type"] == "APP_DEVELOPER"
    users = ok(root.get("/users"))
    assert {u["email"] for u in users} == {"superadmin@rafiki", "dev@rafiki"}
    assert all(set(u) == {"id", "email", "user_type", "banned_date"} for u in users)

    dev = login("dev@rafiki", "pw")
    banned = ok(root.delete("/users", {"email": "dev@rafiki"}, format="json"))
    assert banned["email"] == "dev@rafiki" and banned["banned_date"]
    # The banned user's token stops working and no new one is given.
    assert_error(dev.get("/datasets"), 401, "UnauthorizedError")
    assert_error(
        APIClient().post("/tokens", {"email": "dev@rafiki", "password": "pw"}, format="json"), 401
    )


def test_only_the_superadmin_creates_admins(superadmin: User, admin: User) -> None:
    by_admin = login("admin@example.com", "admin-pw")
    assert_error(
        by_admin.post(
            "/users", {"email": "a2@rafiki", "password": "pw", "user_type": "ADMIN"}, format="json"
        ),
        400,
        "InvalidUserError",
    )
    ok(
        by_admin.post(
            "/users",
            {"email": "m@rafiki", "password": "pw", "user_type": "MODEL_DEVELOPER"},
            format="json",
        )
    )
    root = login("superadmin@rafiki", "super-pw")
    ok(
        root.post(
            "/users", {"email": "a2@rafiki", "password": "pw", "user_type": "ADMIN"}, format="json"
        )
    )


def test_developers_cannot_manage_users_or_stop_all_jobs(alice: User) -> None:
    client = login("alice@example.com", "alice-pw")
    assert_error(client.get("/users"), 403, "UnauthorizedError")
    assert_error(
        client.post(
            "/users", {"email": "x@rafiki", "password": "p", "user_type": "ADMIN"}, format="json"
        ),
        403,
        "UnauthorizedError",
    )
    assert_error(client.post("/actions/stop_all_jobs"), 403, "UnauthorizedError")


# --- datasets and models --------------------------------------------------------------------


def test_datasets_upload_and_list_own_only(alice: User, bob: User) -> None:
    client = login("alice@example.com", "alice-pw")
    made = ok(
        client.post(
            "/datasets",
            {"name": "d1", "task": TOY_TASK, "dataset": SimpleUploadedFile("d.txt", b"abc")},
        )
    )
    assert {"id", "name", "task", "size_bytes"} <= set(made) and made["size_bytes"] == 3
    ok(
        client.post(
            "/datasets",
            {"name": "d2", "task": "OTHER", "dataset": SimpleUploadedFile("d.txt", b"abcd")},
        )
    )
    listed = ok(client.get("/datasets", {"task": TOY_TASK}))
    assert [d["name"] for d in listed] == ["d1"]
    assert set(listed[0]) == {"id", "name", "task", "datetime_created", "size_bytes"}
    assert ok(login("bob@example.com", "bob-pw").get("/datasets")) == []


def test_dataset_without_file_or_with_a_bad_file_is_an_invalid_dataset(
    alice: User, settings
) -> None:
    client = login("alice@example.com", "alice-pw")
    assert_error(
        client.post("/datasets", {"name": "d", "task": TOY_TASK}), 400, "InvalidDatasetError"
    )
    assert_error(
        client.post(
            "/datasets", {"name": "d", "task": TOY_TASK, "dataset_url": "file:///etc/passwd"}
        ),
        400,
        "InvalidDatasetError",
    )
    settings.DATASET_URL_DOWNLOADS = False
    body = assert_error(
        client.post(
            "/datasets", {"name": "d", "task": TOY_TASK, "dataset_url": "http://example.com/d.zip"}
        ),
        400,
        "InvalidDatasetError",
    )
    assert "does not download" in body["detail"]
    bad = SimpleUploadedFile("t.csv", b"not,a\nvalid")
    assert_error(
        client.post("/datasets", {"name": "d", "task": "TABULAR_CLASSIFICATION", "dataset": bad}),
        400,
        "InvalidDatasetError",
    )


@pytest.fixture
def http_file_server(tmp_path):
    """A local HTTP server serving tmp_path/www (no network needed)."""
    import functools
    import http.server
    import threading

    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_dataset_from_a_url_is_downloaded_and_validated(
    alice: User, http_file_server, settings
) -> None:
    root, base = http_file_server
    sys.path.insert(0, str(REPO / "examples" / "datasets"))
    try:
        from tabular import build_iris
    finally:
        sys.path.pop(0)
    build_iris(str(root))
    (root / "iris.csv").write_bytes((root / "iris_train.csv").read_bytes())
    client = login("alice@example.com", "alice-pw")
    made = ok(
        client.post(
            "/datasets",
            {"name": "iris", "task": "TABULAR_CLASSIFICATION", "dataset_url": f"{base}/iris.csv"},
        )
    )
    assert made["size_bytes"] == (root / "iris.csv").stat().st_size
    assert_error(
        client.post(
            "/datasets", {"name": "x", "task": TOY_TASK, "dataset_url": f"{base}/missing.csv"}
        ),
        400,
        "InvalidDatasetError",
    )
    settings.MAX_DATASET_MB = 1
    (root / "big.bin").write_bytes(b"x" * (2 * 2**20))
    body = assert_error(
        client.post("/datasets", {"name": "x", "task": TOY_TASK, "dataset_url": f"{base}/big.bin"}),
        400,
        "InvalidDatasetError",
    )
    assert "limit" in body["detail"]


def test_null_optional_arguments_mean_the_defaults(alice: User, make_model, make_dataset) -> None:
    client = login("alice@example.com", "alice-pw")
    model, train, val = make_model(), make_dataset(name="t"), make_dataset(name="v")
    made = ok(
        client.post(
            "/train_jobs",
            {
                "app": "nulls",
                "task": TOY_TASK,
                "train_dataset_id": train.pk,
                "val_dataset_id": val.pk,
                "model_ids": [model.pk],
                "budget": None,
                "train_args": None,
            },
            format="json",
        )
    )
    assert ok(client.get("/train_jobs/nulls/1"))["budget"]["MODEL_TRIAL_COUNT"] == -1
    assert made["app_version"] == 1


def test_login_email_is_case_insensitive(alice: User) -> None:
    login("Alice@Example.COM", "alice-pw")


def test_models_upload_get_available_file_and_delete(alice: User, carol: User, bob: User) -> None:
    client = login("alice@example.com", "alice-pw")
    made = ok(
        client.post(
            "/models",
            {
                "name": "toy",
                "task": TOY_TASK,
                "model_class": "Toy",
                "dependencies": json.dumps({"numpy": "1.26"}),
                "access_right": "PUBLIC",
                "model_file_bytes": toy_file(),
            },
        )
    )
    assert set(made) == {"id", "user_id", "name"} and made["user_id"] == alice.pk
    ok(
        client.post(
            "/models",
            {
                "name": "private",
                "task": TOY_TASK,
                "model_class": "Toy",
                "model_file_bytes": toy_file(),
            },
        )
    )

    detail = ok(client.get(f"/models/{made['id']}"))
    assert set(detail) == {
        "id",
        "user_id",
        "name",
        "task",
        "model_class",
        "datetime_created",
        "docker_image",
        "dependencies",
        "access_right",
    }
    assert detail["dependencies"] == {"numpy": "1.26"} and detail["access_right"] == "PUBLIC"

    file = client.get(f"/models/{made['id']}/model_file")
    assert file.status_code == 200 and file["Content-Type"] == "application/octet-stream"
    assert b"".join(file.streaming_content) == (FIXTURES / "models" / "toy.py").read_bytes()

    others = login("carol@example.com", "carol-pw")
    available = ok(others.get("/models/available", {"task": TOY_TASK}))
    assert [m["name"] for m in available] == ["toy"]
    assert set(available[0]) == {
        "id",
        "user_id",
        "name",
        "task",
        "datetime_created",
        "dependencies",
        "access_right",
    }
    ok(others.get(f"/models/{made['id']}"))  # PUBLIC: anyone reads it
    private_id = next(
        m["id"] for m in ok(client.get("/models/available")) if m["name"] == "private"
    )
    assert_error(others.get(f"/models/{private_id}"), 404, "InvalidModelError")
    assert_error(others.get(f"/models/{private_id}/model_file"), 404, "InvalidModelError")
    assert_error(others.delete(f"/models/{made['id']}"), 403, "UnauthorizedError")

    # App developers cannot upload models.
    assert_error(
        login("bob@example.com", "bob-pw").post(
            "/models",
            {"name": "x", "task": TOY_TASK, "model_class": "Toy", "model_file_bytes": toy_file()},
        ),
        403,
        "UnauthorizedError",
    )
    gone = ok(client.delete(f"/models/{private_id}"))
    assert gone == {"id": private_id, "user_id": alice.pk, "name": "private"}
    assert_error(client.get(f"/models/{private_id}"), 404, "InvalidModelError")
    assert_error(client.get("/models/not-a-number"), 404, "InvalidModelError")


def test_a_broken_model_file_is_an_invalid_model(alice: User) -> None:
    client = login("alice@example.com", "alice-pw")
    broken = SimpleUploadedFile("m.py", b"def oops(:\n")
    body = assert_error(
        client.post(
            "/models",
            {"name": "m", "task": TOY_TASK, "model_class": "M", "model_file_bytes": broken},
        ),
        400,
        "InvalidModelError",
    )
    assert "invalid model file" in body["detail"]
    assert_error(
        client.post(
            "/models",
            {
                "name": "m",
                "task": TOY_TASK,
                "model_class": "Toy",
                "dependencies": "{not json",
                "model_file_bytes": toy_file(),
            },
        ),
        400,
    )


# --- train jobs, trials ---------------------------------------------------------------------


@pytest.fixture
def finished_job(alice: User, make_model, make_dataset) -> TrainJob:
    """alice's app "toyapp" v1, run to the end in this process (2 trials)."""
    from apps.trials.services import train_job_create

    job = train_job_create(
        owner=alice,
        app="toyapp",
        task=TOY_TASK,
        train_dataset=make_dataset(name="train"),
        val_dataset=make_dataset(name="val"),
        models=[make_model()],
        budget={"MODEL_TRIAL_COUNT": 2},
    )
    return drive(job)


TRAIN_JOB_FIELDS = {
    "id", "status", "app", "app_version", "task", "train_dataset_id", "val_dataset_id",
    "train_args", "datetime_started", "datetime_stopped", "budget",
}  # fmt: skip
TRIAL_FIELDS = {
    "id", "no", "worker_id", "proposal", "datetime_started", "status", "datetime_stopped",
    "model_name", "score", "is_params_saved",
}  # fmt: skip


def test_train_job_create_uses_the_next_version_per_user(
    alice: User, carol: User, make_model, make_dataset
) -> None:
    model = make_model(access_right="PUBLIC")
    client = login("alice@example.com", "alice-pw")
    train, val = make_dataset(name="t"), make_dataset(name="v")
    request = {
        "app": "myapp",
        "task": TOY_TASK,
        "train_dataset_id": train.pk,
        "val_dataset_id": val.pk,
        "budget": {"MODEL_TRIAL_COUNT": 1},
        "model_ids": [model.pk],
        "train_args": {},
    }
    first = ok(client.post("/train_jobs", request, format="json"))
    second = ok(client.post("/train_jobs", request, format="json"))
    assert set(first) == {"id", "app", "app_version"}
    assert (first["app_version"], second["app_version"]) == (1, 2)
    # Another user's job on the same app name starts at version 1 for them.
    theirs = login("carol@example.com", "carol-pw")
    t2, v2 = make_dataset(owner=carol, name="t"), make_dataset(owner=carol, name="v")
    mine = ok(
        theirs.post(
            "/train_jobs",
            {**request, "train_dataset_id": t2.pk, "val_dataset_id": v2.pk},
            format="json",
        )
    )
    assert mine["app_version"] == 1

    jobs = ok(client.get("/train_jobs", {"user_id": alice.pk}))
    assert [j["app_version"] for j in jobs] == [1, 2] and set(jobs[0]) == TRAIN_JOB_FIELDS
    assert jobs[0]["budget"]["MODEL_TRIAL_COUNT"] == 1
    assert [j["app_version"] for j in ok(client.get("/train_jobs/myapp"))] == [1, 2]
    assert ok(client.get("/train_jobs/myapp/-1"))["app_version"] == 2
    assert ok(client.get("/train_jobs/myapp/1"))["id"] == first["id"]
    assert_error(client.get("/train_jobs/myapp/7"), 404, "InvalidTrainJobError")
    assert_error(theirs.get("/train_jobs", {"user_id": alice.pk}), 403, "UnauthorizedError")

    stopped = ok(client.post("/train_jobs/myapp/-1/stop"))
    assert stopped == {"id": second["id"], "app": "myapp", "app_version": 2}
    assert ok(client.get("/train_jobs/myapp/2"))["status"] == "STOPPED"


def test_train_job_refuses_someone_elses_private_model(
    alice: User, bob: User, make_model, make_dataset
) -> None:
    private = make_model()  # alice's
    client = login("bob@example.com", "bob-pw")
    t, v = make_dataset(owner=bob, name="t"), make_dataset(owner=bob, name="v")
    body = {
        "app": "a",
        "task": TOY_TASK,
        "train_dataset_id": t.pk,
        "val_dataset_id": v.pk,
        "model_ids": [private.pk],
    }
    assert_error(client.post("/train_jobs", body, format="json"), 400, "InvalidModelError")
    assert_error(
        client.post("/train_jobs", {**body, "budget": {"MODEL_TRIAL_COUNT": 0}}, format="json"),
        400,
        "InvalidTrainJobError",
    )
    assert_error(
        client.post("/train_jobs", {**body, "train_dataset_id": "x"}, format="json"),
        400,
        "InvalidRequestError",
    )


def test_admin_lists_another_users_jobs(admin: User, finished_job: TrainJob) -> None:
    jobs = ok(
        login("admin@example.com", "admin-pw").get(f"/train_jobs?user_id={finished_job.owner_id}")
    )
    assert [j["id"] for j in jobs] == [finished_job.pk]


def test_trials_best_logs_and_parameters(finished_job: TrainJob, carol: User) -> None:
    client = login("alice@example.com", "alice-pw")
    assert finished_job.status == "STOPPED"
    trials = ok(client.get("/train_jobs/toyapp/1/trials"))
    assert [t["no"] for t in trials] == [1, 2] and set(trials[0]) == TRIAL_FIELDS
    assert all(t["status"] == "COMPLETED" and t["model_name"] == "toy" for t in trials)

    best = ok(client.get("/train_jobs/toyapp/-1/trials", {"type": "best", "max_count": 1}))
    assert len(best) == 1 and best[0]["score"] == max(t["score"] for t in trials)

    trial = ok(client.get(f"/trials/{best[0]['id']}"))
    assert set(trial) == TRIAL_FIELDS and set(trial["proposal"]["knobs"]) == {"x", "name"}

    logs = ok(client.get(f"/trials/{trial['id']}/logs"))
    assert set(logs) == {"plots", "metrics", "messages"}
    assert logs["plots"][0] == {"title": "Loss", "metrics": ["loss"], "x_axis": "epoch"}
    assert "loss" in logs["metrics"][0] and "time" in logs["metrics"][0]
    assert logs["messages"][0]["message"].startswith("line 0")

    pickled = client.get(f"/trials/{trial['id']}/parameters")
    assert pickled.status_code == 200 and pickled["Content-Type"] == "application/octet-stream"
    params = pickle.loads(pickled.content)
    assert isinstance(params, dict) and params
    assert any(isinstance(v, np.ndarray) for v in params.values())

    native = client.get(f"/trials/{trial['id']}/parameters", {"format": "rafiki-params"})
    assert native["Content-Type"] == "application/octet-stream" and native.content.startswith(MAGIC)

    other = login("carol@example.com", "carol-pw")
    assert_error(other.get(f"/trials/{trial['id']}"), 404, "InvalidTrialError")
    assert_error(other.get(f"/trials/{trial['id']}/parameters"), 404, "InvalidTrialError")
    assert_error(other.get("/train_jobs/toyapp/1/trials"), 404, "InvalidTrainJobError")
    assert_error(client.get("/trials/999999"), 404, "InvalidTrialError")


def test_parameters_of_a_trial_without_saved_params_is_invalid_trial(
    finished_job: TrainJob,
) -> None:
    trial = finished_job.trials.first()
    Trial.objects.filter(pk=trial.pk).update(is_params_saved=False, params_file="")
    client = login("alice@example.com", "alice-pw")
    assert_error(client.get(f"/trials/{trial.pk}/parameters"), 400, "InvalidTrialError")


# --- inference seam and admin actions -------------------------------------------------------


def test_inference_routes_refuse_what_cannot_be_served(finished_job: TrainJob, make_job) -> None:
    client = login("alice@example.com", "alice-pw")
    assert ok(client.get("/inference_jobs")) == []
    assert ok(client.get("/inference_jobs/toyapp")) == []
    assert_error(client.get("/inference_jobs/toyapp/-1"), 400, "InvalidRunningInferenceJobError")
    assert_error(
        client.post("/inference_jobs/toyapp/-1/stop"), 400, "InvalidRunningInferenceJobError"
    )
    assert_error(
        client.post("/inference_jobs", {"app": "nope"}, format="json"), 400, "InvalidTrainJobError"
    )
    make_job(app="running", models=[finished_job.sub_jobs.get().model])  # STARTED, not STOPPED
    assert_error(
        client.post("/inference_jobs", {"app": "running"}, format="json"),
        400,
        "InvalidTrainJobError",
    )


def test_stop_all_jobs_stops_every_running_job(superadmin: User, make_job, make_model) -> None:
    model = make_model()
    running = [make_job(app="a", models=[model]), make_job(app="b", models=[model])]
    body = ok(login("superadmin@rafiki", "super-pw").post("/actions/stop_all_jobs"))
    assert sorted(body["stopped_train_job_ids"]) == sorted(j.pk for j in running)
    assert set(TrainJob.objects.values_list("status", flat=True)) == {"STOPPED"}


# --- request shapes -------------------------------------------------------------------------


def test_malformed_json_unknown_routes_and_wrong_methods_answer_the_error_shape(
    alice: User,
) -> None:
    client = login("alice@example.com", "alice-pw")
    assert_error(
        client.generic("POST", "/train_jobs", "{nope", content_type="application/json"),
        400,
        "MalformedRequestError",
    )
    assert_error(
        client.generic("POST", "/train_jobs", "[1, 2]", content_type="application/json"),
        400,
        "MalformedRequestError",
    )
    assert_error(client.get("/no/such/route"), 404, "NotFoundError")
    assert_error(client.put("/datasets"), 405, "MethodNotAllowedError")


def test_trailing_slashes_are_accepted(alice: User) -> None:
    client = login("alice@example.com", "alice-pw")
    assert ok(client.get("/datasets/")) == []


def test_failed_logins_are_throttled_but_good_ones_are_not(alice: User) -> None:
    client = APIClient()
    for _ in range(12):  # logging in often with the right password is fine
        ok(
            client.post(
                "/tokens", {"email": "alice@example.com", "password": "alice-pw"}, format="json"
            )
        )
    answers = [
        client.post(
            "/tokens", {"email": "alice@example.com", "password": "wrong"}, format="json"
        ).status_code
        for _ in range(10)
    ]
    assert answers == [401] * 10
    # Now even the right password waits: guessing is slowed to 10 tries a minute.
    assert_error(
        client.post(
            "/tokens", {"email": "alice@example.com", "password": "alice-pw"}, format="json"
        ),
        429,
        "TooManyRequestsError",
    )
