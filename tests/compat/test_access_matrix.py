"""Every Rafiki-compatible route as the owner, another user, an anonymous caller and an admin.

Status codes other than 200 are errors for Rafiki's client; the body always names the error.
Train jobs are addressed by the caller's own app names, so another user's (or an admin's)
`/train_jobs/toyapp/1` is simply not found."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import User
from tests.api_fixtures import World
from tests.conftest import FIXTURES, TOY_TASK

pytestmark = pytest.mark.urls("apps.compat.urls")


def routes(w: World) -> list[tuple[str, str, Any, dict[str, int | None]]]:
    trial = w.trial.pk

    def model_body() -> dict:
        toy = (FIXTURES / "models" / "toy.py").read_bytes()
        return {
            "name": "new",
            "task": TOY_TASK,
            "model_class": "Toy",
            "model_file_bytes": SimpleUploadedFile("t.py", toy),
        }

    def dataset_body() -> dict:
        return {"name": "new", "task": TOY_TASK, "dataset": SimpleUploadedFile("d.txt", b"data")}

    job_body = {
        "app": "another",
        "task": TOY_TASK,
        "train_dataset_id": w.train.pk,
        "val_dataset_id": w.train.pk,
        "model_ids": [w.public_model.pk],
        "budget": {"MODEL_TRIAL_COUNT": 1},
    }

    def every(code: int) -> dict[str, int]:
        return {"owner": code, "other": code, "admin": code, "anonymous": 401}

    admin_only = {"owner": 403, "other": 403, "anonymous": 401, "admin": 200}
    owner_only = {"owner": 200, "other": 404, "anonymous": 401, "admin": 404}
    owner_or_admin = {"owner": 200, "other": 404, "anonymous": 401, "admin": 200}
    return [
        ("get", "/users", None, admin_only),
        ("post", "/users", {"email": "new@rafiki", "password": "pw", "user_type": "APP_DEVELOPER"}, admin_only),
        ("get", "/datasets", None, every(200)),
        ("post", "/datasets", dataset_body, every(200)),
        ("post", "/models", model_body, every(200)),
        ("get", "/models/available", None, every(200)),
        ("get", f"/models/{w.private_model.pk}", None, owner_only),
        ("get", f"/models/{w.public_model.pk}", None, every(200)),
        ("get", f"/models/{w.private_model.pk}/model_file", None, owner_only),
        ("post", "/train_jobs", job_body, {"owner": 200, "other": 400, "anonymous": 401, "admin": 400}),
        ("get", "/train_jobs", None, every(200)),
        ("get", f"/train_jobs?user_id={w.alice.pk}", None, {"owner": 200, "other": 403, "anonymous": 401, "admin": 200}),
        ("get", "/train_jobs/toyapp", None, every(200)),
        ("get", "/train_jobs/toyapp/1", None, owner_only),
        ("get", "/train_jobs/toyapp/-1/trials", None, owner_only),
        ("get", "/train_jobs/toyapp/-1/trials?type=best&max_count=1", None, owner_only),
        ("get", f"/trials/{trial}", None, owner_or_admin),
        ("get", f"/trials/{trial}/logs", None, owner_or_admin),
        ("get", f"/trials/{trial}/parameters", None, owner_or_admin),
        # The owner's create is the inference tests' business; here nobody else may.
        ("post", "/inference_jobs", {"app": "toyapp", "app_version": 1}, {"owner": None, "other": 400, "anonymous": 401, "admin": 400}),
        ("get", "/inference_jobs", None, every(200)),
        ("get", "/inference_jobs/toyapp", None, every(200)),
        ("get", "/inference_jobs/toyapp/1", None, every(400)),
        ("post", "/inference_jobs/toyapp/1/stop", None, every(400)),
        ("post", "/actions/stop_all_jobs", None, {"owner": 403, "other": 403, "anonymous": 401, "admin": 403}),
        ("post", "/train_jobs/toyapp/1/stop", None, owner_only),
        ("delete", f"/models/{w.spare_model.pk}", None, owner_only),
        ("delete", "/users", {"email": "dave@example.com"}, admin_only),
    ]  # fmt: skip


@pytest.mark.parametrize("role", ["owner", "other", "anonymous", "admin"])
def test_every_route_answers_each_role_as_documented(role: str, world: World, client_for) -> None:
    user = {"owner": world.alice, "other": world.carol, "anonymous": None, "admin": world.admin}[
        role
    ]
    client = client_for(user)
    wrong = []
    for method, path, body, expected in routes(world):
        if expected[role] is None:
            continue
        data = body() if callable(body) else body
        if data is None:
            response = getattr(client, method)(path)
        elif any(isinstance(v, SimpleUploadedFile) for v in data.values()):
            response = getattr(client, method)(path, data, format="multipart")
        else:
            response = getattr(client, method)(path, data, format="json")
        content_type = response["Content-Type"]
        if response.status_code != expected[role]:
            wrong.append(
                f"{method.upper()} {path}: {response.status_code}, expected {expected[role]}: {response.content[:200]!r}"
            )
        elif content_type not in ("application/json", "application/octet-stream"):
            wrong.append(f"{method.upper()} {path}: content type {content_type}")
        elif response.status_code != 200:
            error = response.json()
            if not isinstance(error.get("error"), str) or not error.get("detail"):
                wrong.append(f"{method.upper()} {path}: not the error shape: {error}")
            if response.status_code in (401, 403) and error["error"] != "UnauthorizedError":
                wrong.append(
                    f"{method.upper()} {path}: {error['error']} instead of UnauthorizedError"
                )
    assert not wrong, "\n".join(wrong)


def test_only_the_superadmin_stops_all_jobs(world: World, superadmin: User, client_for) -> None:
    response = client_for(superadmin).post("/actions/stop_all_jobs")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
