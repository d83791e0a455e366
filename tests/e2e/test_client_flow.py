"""The "done when" flow: the real server on both ports, a real Redis and Celery worker, driven
only through `rafiki.client.Client` against the Rafiki-compatible port, as an existing Rafiki
script would."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from rafiki.client import Client, RafikiClientError
from rafiki.model import load_model_class
from tests.conftest import REPO
from tests.e2e.conftest import Cluster, _free_port

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SUPERADMIN_PASSWORD = "e2e-root-pw"
MODEL_FILE = REPO / "examples" / "models" / "tabular_classification" / "SkGaussianNB.py"


@pytest.fixture(scope="module")
def servers(cluster: Cluster) -> dict[str, int]:
    """A worker, the web server (dashboard + /api/) and the admin API server, as `make run`
    starts them (gunicorn, the admin one with ROOT_URLCONF=apps.compat.urls)."""
    cluster.worker("w1")
    ports = {"web": _free_port(), "admin": _free_port()}
    cluster.web_server("web", ports["web"])
    cluster.web_server("admin-api", ports["admin"], admin_api=True)
    return ports


def _wait_until_final(client: Client, app: str, cluster: Cluster, timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get_train_job(app)
        if job["status"] in ("STOPPED", "ERRORED"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"train job of {app} did not finish\n{cluster.log_tails()}")


def test_a_whole_rafiki_session_through_the_client(
    servers: dict[str, int], cluster: Cluster, tmp_path: Path
) -> None:
    # As `make run` does, with the server's settings (the test settings hash passwords
    # differently from the server processes).
    subprocess.run(
        [sys.executable, "manage.py", "ensure_superadmin"],
        cwd=REPO,
        env={**cluster.env, "SUPERADMIN_PASSWORD": SUPERADMIN_PASSWORD},
        check=True,
        capture_output=True,
    )
    root = Client(admin_host="127.0.0.1", admin_port=servers["admin"])
    login = root.login(email="superadmin@rafiki", password=SUPERADMIN_PASSWORD)
    assert login["user_type"] == "SUPERADMIN"

    # Users, as the superadmin.
    root.create_user("dev@rafiki", "dev-pw", "MODEL_DEVELOPER")
    root.create_user("app@rafiki", "app-pw", "APP_DEVELOPER")
    assert {u["email"] for u in root.get_users()} >= {
        "superadmin@rafiki",
        "dev@rafiki",
        "app@rafiki",
    }

    # A model developer uploads the model and the datasets.
    dev = Client(admin_host="127.0.0.1", admin_port=servers["admin"])
    dev.login(email="dev@rafiki", password="dev-pw")
    model = dev.create_model(
        "gnb",
        "TABULAR_CLASSIFICATION",
        str(MODEL_FILE),
        "SkGaussianNB",
        dependencies={"scikit-learn": "1.4"},
        access_right="PUBLIC",
    )
    sys.path.insert(0, str(REPO / "examples" / "datasets"))
    try:
        from tabular import build_iris
    finally:
        sys.path.pop(0)
    paths = build_iris(str(tmp_path / "iris"))
    train = dev.create_dataset("iris-train", "TABULAR_CLASSIFICATION", paths["train"])
    val = dev.create_dataset("iris-val", "TABULAR_CLASSIFICATION", paths["val"])
    assert train["size_bytes"] == Path(paths["train"]).stat().st_size
    assert [m["name"] for m in dev.get_available_models("TABULAR_CLASSIFICATION")] == ["gnb"]
    downloaded = tmp_path / "downloaded.py"
    dev.download_model_file(model["id"], str(downloaded))
    assert downloaded.read_bytes() == MODEL_FILE.read_bytes()

    # A train job runs on the worker to STOPPED.
    created = dev.create_train_job(
        "iris",
        "TABULAR_CLASSIFICATION",
        train["id"],
        val["id"],
        budget={"MODEL_TRIAL_COUNT": 2},
        models=[model["id"]],
    )
    assert created["app_version"] == 1
    job = _wait_until_final(dev, "iris", cluster)
    assert job["status"] == "STOPPED", job
    assert [j["id"] for j in dev.get_train_jobs_by_user(login_user_id(dev))] == [created["id"]]
    assert [j["app_version"] for j in dev.get_train_jobs_of_app("iris")] == [1]

    trials = dev.get_trials_of_train_job("iris")
    assert len(trials) == 2 and all(t["status"] == "COMPLETED" for t in trials)
    best = dev.get_best_trials_of_train_job("iris", max_count=1)
    assert len(best) == 1 and best[0]["score"] == max(t["score"] for t in trials)
    assert 0.5 < best[0]["score"] <= 1.0

    logs = dev.get_trial_logs(best[0]["id"])
    assert any("accuracy" in m for m in logs["metrics"])

    # Parameters: the safe format through the client, the pickle Rafiki sends by default.
    params = dev.get_trial_parameters(best[0]["id"])
    assert {"theta", "var", "classes"} <= set(params)
    raw = requests.get(
        f"http://127.0.0.1:{servers['admin']}/trials/{best[0]['id']}/parameters",
        headers={"Authorization": f"Bearer {dev._token}"},
        timeout=30,
    )
    assert raw.status_code == 200 and raw.headers["Content-Type"] == "application/octet-stream"
    import pickle

    assert set(pickle.loads(raw.content)) == set(params)

    ModelClass = load_model_class(MODEL_FILE.read_bytes(), "SkGaussianNB")
    trained = dev.load_trial_model(best[0]["id"], ModelClass)
    query = {name: 5.0 for name in trained._features}
    [probabilities] = trained.predict([query])
    assert len(probabilities) == 3 and abs(sum(probabilities) - 1.0) < 1e-6

    # No inference job runs for the app yet: the answer says so by name.
    with pytest.raises(RafikiClientError) as none_running:
        dev.get_running_inference_job("iris")
    assert none_running.value.error == "InvalidRunningInferenceJobError"

    # The app developer may not upload models; once banned, they cannot log in.
    app_dev = Client(admin_host="127.0.0.1", admin_port=servers["admin"])
    app_dev.login(email="app@rafiki", password="app-pw")
    with pytest.raises(RafikiClientError) as refused:
        app_dev.create_model("m", "TABULAR_CLASSIFICATION", str(MODEL_FILE), "SkGaussianNB")
    assert refused.value.error == "UnauthorizedError"
    banned = root.ban_user("app@rafiki")
    assert banned["banned_date"]
    with pytest.raises(RafikiClientError) as after_ban:
        app_dev.get_datasets()
    assert after_ban.value.error == "UnauthorizedError"
    with pytest.raises(RafikiClientError):
        Client(admin_host="127.0.0.1", admin_port=servers["admin"]).login(
            email="app@rafiki", password="app-pw"
        )

    assert root.stop_all_jobs()["stopped_train_job_ids"] == []

    # The web port serves the documented API with the same token.
    me = requests.get(
        f"http://127.0.0.1:{servers['web']}/api/me/",
        headers={"Authorization": f"Bearer {dev._token}"},
        timeout=30,
    )
    assert me.status_code == 200 and me.json()["email"] == "dev@rafiki"


def login_user_id(client: Client) -> int:
    user = client.get_current_user()
    assert user is not None
    return user["id"]
