"""Every `/api/` route as the owner, another user, an anonymous caller and an admin.

Another user's private objects answer 404 (ids do not leak), anonymous callers 401. Admins
read and stop everyone's train jobs and trials, manage users, and see models and datasets like
any other user (their owners' private files stay private)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api_fixtures import World
from tests.conftest import FIXTURES, TOY_TASK

ROLES = ["owner", "other", "anonymous", "admin"]


def routes(w: World) -> list[tuple[str, str, Any, dict[str, int]]]:
    """(method, path, body, {role: status}); destructive calls last."""
    job, trial = w.job.pk, w.trial.pk

    def job_body() -> dict:
        return {
            "app": "another",
            "task": TOY_TASK,
            "train_dataset_id": w.train.pk,
            "val_dataset_id": w.train.pk,
            "model_ids": [w.public_model.pk],
            "budget": {"MODEL_TRIAL_COUNT": 1},
        }

    def model_body() -> dict:
        toy = (FIXTURES / "models" / "toy.py").read_bytes()
        return {
            "name": "new",
            "task": TOY_TASK,
            "model_class": "Toy",
            "model_file": SimpleUploadedFile("t.py", toy),
        }

    def dataset_body() -> dict:
        return {"name": "new", "task": TOY_TASK, "dataset": SimpleUploadedFile("d.txt", b"data")}

    def every(code: int, anonymous: int = 401) -> dict[str, int]:
        return {"owner": code, "other": code, "admin": code, "anonymous": anonymous}

    return [
        ("get", "/api/me/", None, every(200)),
        ("get", "/api/users/", None, {"owner": 403, "other": 403, "anonymous": 401, "admin": 200}),
        ("get", f"/api/users/{w.carol.pk}/", None, {"owner": 403, "other": 403, "anonymous": 401, "admin": 200}),
        ("get", "/api/models/", None, every(200)),
        ("get", f"/api/models/{w.private_model.pk}/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 404}),
        ("get", f"/api/models/{w.public_model.pk}/", None, every(200)),
        ("get", f"/api/models/{w.private_model.pk}/file/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 404}),
        ("get", f"/api/models/{w.public_model.pk}/file/", None, {"owner": 200, "other": 403, "anonymous": 401, "admin": 403}),
        ("get", "/api/datasets/", None, every(200)),
        ("get", f"/api/datasets/{w.train.pk}/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 404}),
        ("get", "/api/train-jobs/", None, every(200)),
        ("get", f"/api/train-jobs/{job}/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 200}),
        ("get", f"/api/train-jobs/{job}/trials/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 200}),
        ("get", f"/api/train-jobs/{job}/best-trials/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 200}),
        ("get", "/api/apps/toyapp/versions/-1/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 404}),
        ("get", f"/api/trials/{trial}/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 200}),
        ("get", f"/api/trials/{trial}/logs/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 200}),
        ("get", f"/api/trials/{trial}/parameters/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 200}),
        # Writes. The other user and the admin cannot use alice's datasets (400, named error).
        ("post", "/api/train-jobs/", job_body, {"owner": 201, "other": 400, "anonymous": 401, "admin": 400}),
        ("post", "/api/models/", model_body, every(201)),
        ("post", "/api/datasets/", dataset_body, every(201)),
        ("post", "/api/users/", {"email": "new@rafiki", "password": "pw", "user_type": "APP_DEVELOPER"},
         {"owner": 403, "other": 403, "anonymous": 401, "admin": 201}),
        ("post", f"/api/train-jobs/{job}/stop/", None, {"owner": 200, "other": 404, "anonymous": 401, "admin": 200}),
        ("delete", f"/api/models/{w.spare_model.pk}/", None, {"owner": 204, "other": 404, "anonymous": 401, "admin": 404}),
        ("delete", f"/api/datasets/{w.spare_dataset.pk}/", None, {"owner": 204, "other": 404, "anonymous": 401, "admin": 404}),
        ("post", f"/api/users/{w.dave.pk}/ban/", None, {"owner": 403, "other": 403, "anonymous": 401, "admin": 200}),
        ("delete", "/api/tokens/current/", None, {"owner": 204, "other": 204, "anonymous": 401, "admin": 204}),
    ]  # fmt: skip


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_documented(role: str, world: World, client_for) -> None:
    user = {"owner": world.alice, "other": world.carol, "anonymous": None, "admin": world.admin}[
        role
    ]
    client = client_for(user)
    wrong = []
    for method, path, body, expected in routes(world):
        data = body() if callable(body) else body
        kwargs = (
            {"format": "multipart"}
            if data and any(isinstance(v, SimpleUploadedFile) for v in data.values())
            else {"format": "json"}
        )
        response = (
            getattr(client, method)(path, data, **kwargs)
            if data is not None
            else getattr(client, method)(path)
        )
        if response.status_code != expected[role]:
            wrong.append(
                f"{method.upper()} {path}: {response.status_code}, expected {expected[role]}: {response.content[:200]!r}"
            )
        elif response.status_code >= 400:
            body_json = response.json()
            if set(body_json) < {"error", "detail"}:
                wrong.append(f"{method.upper()} {path}: not the error shape: {body_json}")
    assert not wrong, "\n".join(wrong)


def test_app_developers_cannot_upload_models(bob, client_for) -> None:
    toy = (FIXTURES / "models" / "toy.py").read_bytes()
    response = client_for(bob).post(
        "/api/models/",
        {
            "name": "m",
            "task": TOY_TASK,
            "model_class": "Toy",
            "model_file": SimpleUploadedFile("t.py", toy),
        },
        format="multipart",
    )
    assert response.status_code == 403 and response.json()["error"] == "ForbiddenError"
