"""A Python client for Rafiki Web's Rafiki-compatible admin API.

Method names and parameters follow the original Rafiki client, so scripts written for it keep
working::

    from rafiki.client import Client
    client = Client(admin_host="localhost", admin_port=3000)
    client.login(email="superadmin@rafiki", password="rafiki")
    client.create_model("TfFeedForward", "IMAGE_CLASSIFICATION", "model.py", "TfFeedForward")

Every failure raises ``RafikiClientError`` carrying the server's error name and detail.
"""

from __future__ import annotations

import json
import os
import pickle
from typing import Any

from rafiki.constants import ModelAccessRight

PARAMS_MAGIC = b"RAFKPRM1"


class RafikiClientError(Exception):
    """The server answered with an error (or could not be reached).

    ``error`` is the server's error name (e.g. ``InvalidModelError``), ``detail`` its message,
    ``status_code`` the HTTP status (None when the server could not be reached).
    """

    def __init__(self, error: str, detail: str, status_code: int | None = None):
        super().__init__(f"{error}: {detail}")
        self.error = error
        self.detail = detail
        self.status_code = status_code


class Client:
    def __init__(
        self,
        admin_host: str | None = None,
        admin_port: int | None = None,
        timeout: float = 300,
    ):
        import requests  # the client's only dependency beyond the SDK

        self._requests = requests
        self._session = requests.Session()
        self._admin_host = admin_host or os.environ.get("RAFIKI_ADDR", "localhost")
        self._admin_port = int(admin_port or os.environ.get("ADMIN_EXT_PORT", "3000"))
        self._timeout = timeout
        self._token: str | None = None
        self._user: dict[str, Any] | None = None

    # ----------------------------------------------------------------- users

    def login(self, email: str, password: str) -> dict[str, Any]:
        """Log in and keep the token for later calls. Returns ``{user_id, user_type, token}``."""
        data = self._post("/tokens", json={"email": email, "password": password})
        self._token = data["token"]
        self._user = {"id": data["user_id"], "user_type": data["user_type"], "email": email}
        return data

    def get_current_user(self) -> dict[str, Any] | None:
        return self._user

    def logout(self) -> None:
        self._token = None
        self._user = None

    def create_user(self, email: str, password: str, user_type: str) -> dict[str, Any]:
        return self._post(
            "/users", json={"email": email, "password": password, "user_type": user_type}
        )

    def get_users(self) -> list[dict[str, Any]]:
        return self._get("/users")

    def ban_user(self, email: str) -> dict[str, Any]:
        return self._delete("/users", json={"email": email})

    # -------------------------------------------------------------- datasets

    def create_dataset(
        self, name: str, task: str, dataset_path: str | None = None, dataset_url: str | None = None
    ) -> dict[str, Any]:
        form = {"name": name, "task": task}
        if dataset_url is not None:
            form["dataset_url"] = dataset_url
        if dataset_path is None:
            return self._post("/datasets", data=form)
        with open(dataset_path, "rb") as f:
            return self._post(
                "/datasets", data=form, files={"dataset": (os.path.basename(dataset_path), f)}
            )

    def get_datasets(self, task: str | None = None) -> list[dict[str, Any]]:
        return self._get("/datasets", params={"task": task} if task else None)

    # ---------------------------------------------------------------- models

    def create_model(
        self,
        name: str,
        task: str,
        model_file_path: str,
        model_class: str,
        dependencies: dict[str, str] | None = None,
        access_right: str = ModelAccessRight.PRIVATE,
        docker_image: str | None = None,
    ) -> dict[str, Any]:
        form = {
            "name": name,
            "task": task,
            "model_class": model_class,
            "dependencies": json.dumps(dependencies or {}),
            "access_right": access_right,
        }
        if docker_image:
            form["docker_image"] = docker_image
        with open(model_file_path, "rb") as f:
            return self._post(
                "/models",
                data=form,
                files={"model_file_bytes": (os.path.basename(model_file_path), f)},
            )

    def get_model(self, model_id: Any) -> dict[str, Any]:
        return self._get(f"/models/{model_id}")

    def download_model_file(self, model_id: Any, out_model_file_path: str) -> dict[str, Any]:
        content = self._get(f"/models/{model_id}/model_file", raw=True)
        with open(out_model_file_path, "wb") as f:
            f.write(content)
        return self.get_model(model_id)

    def get_available_models(self, task: str | None = None) -> list[dict[str, Any]]:
        return self._get("/models/available", params={"task": task} if task else None)

    def delete_model(self, model_id: Any) -> dict[str, Any]:
        return self._delete(f"/models/{model_id}")

    # ------------------------------------------------------------ train jobs

    def create_train_job(
        self,
        app: str,
        task: str,
        train_dataset_id: Any,
        val_dataset_id: Any,
        budget: dict[str, Any] | None = None,
        models: list[Any] | None = None,
        train_args: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Start tuning ``models`` (model ids; default: every model available for the task)."""
        if models is None:
            models = [m["id"] for m in self.get_available_models(task)]
        return self._post(
            "/train_jobs",
            json={
                "app": app,
                "task": task,
                "train_dataset_id": train_dataset_id,
                "val_dataset_id": val_dataset_id,
                "budget": budget or {},
                "model_ids": models,
                "train_args": train_args or {},
            },
        )

    def get_train_jobs_by_user(self, user_id: Any) -> list[dict[str, Any]]:
        return self._get("/train_jobs", params={"user_id": user_id})

    def get_train_jobs_of_app(self, app: str) -> list[dict[str, Any]]:
        return self._get(f"/train_jobs/{app}")

    def get_train_job(self, app: str, app_version: int = -1) -> dict[str, Any]:
        return self._get(f"/train_jobs/{app}/{app_version}")

    def stop_train_job(self, app: str, app_version: int = -1) -> dict[str, Any]:
        return self._post(f"/train_jobs/{app}/{app_version}/stop")

    # ---------------------------------------------------------------- trials

    def get_trial(self, trial_id: Any) -> dict[str, Any]:
        return self._get(f"/trials/{trial_id}")

    def get_best_trials_of_train_job(
        self, app: str, app_version: int = -1, max_count: int = 2
    ) -> list[dict[str, Any]]:
        return self._get(
            f"/train_jobs/{app}/{app_version}/trials",
            params={"type": "best", "max_count": max_count},
        )

    def get_trials_of_train_job(self, app: str, app_version: int = -1) -> list[dict[str, Any]]:
        return self._get(f"/train_jobs/{app}/{app_version}/trials")

    def get_trial_logs(self, trial_id: Any) -> dict[str, Any]:
        return self._get(f"/trials/{trial_id}/logs")

    def get_trial_parameters(self, trial_id: Any) -> dict[str, Any]:
        """The trial's parameters as a dict. Rafiki Web sends them in its pickle-free format
        when asked; the pickled dict of the original API is read too."""
        content = self._get(
            f"/trials/{trial_id}/parameters", params={"format": "rafiki-params"}, raw=True
        )
        if content.startswith(PARAMS_MAGIC):
            import tempfile

            from rafiki.model.params import load_params

            with tempfile.NamedTemporaryFile(suffix=".rfp") as f:
                f.write(content)
                f.flush()
                return load_params(f.name)
        return pickle.loads(content)  # the original server's format; only from a server you trust

    def load_trial_model(self, trial_id: Any, ModelClass: type) -> Any:
        """An instance of ``ModelClass`` built with the trial's knobs and loaded with its parameters."""
        trial = self.get_trial(trial_id)
        params = self.get_trial_parameters(trial_id)
        proposal = trial.get("proposal") or {}
        knobs = proposal.get("knobs", trial.get("knobs", {}))
        model = ModelClass(**knobs)
        model.load_parameters(params)
        return model

    # -------------------------------------------------------- inference jobs

    def create_inference_job(
        self, app: str, app_version: int = -1, budget: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self._post(
            "/inference_jobs", json={"app": app, "app_version": app_version, "budget": budget or {}}
        )

    def get_inference_jobs_by_user(self, user_id: Any) -> list[dict[str, Any]]:
        return self._get("/inference_jobs", params={"user_id": user_id})

    def get_inference_jobs_of_app(self, app: str) -> list[dict[str, Any]]:
        return self._get(f"/inference_jobs/{app}")

    def get_running_inference_job(self, app: str, app_version: int = -1) -> dict[str, Any]:
        return self._get(f"/inference_jobs/{app}/{app_version}")

    def stop_inference_job(self, app: str, app_version: int = -1) -> dict[str, Any]:
        return self._post(f"/inference_jobs/{app}/{app_version}/stop")

    def predict(self, app: str, queries: list[Any], app_version: int = -1) -> list[Any]:
        """Predictions of the app's running inference job for ``queries``."""
        job = self.get_running_inference_job(app, app_version)
        url = f"http://{job['predictor_host']}/predict"
        data = self._send("POST", url, json={"queries": queries})
        return data["predictions"]

    # ---------------------------------------------------------------- admin

    def stop_all_jobs(self) -> dict[str, Any]:
        return self._post("/actions/stop_all_jobs")

    # ------------------------------------------------------------- plumbing

    def _url(self, path: str) -> str:
        return f"http://{self._admin_host}:{self._admin_port}{path}"

    def _get(self, path: str, params: dict | None = None, raw: bool = False) -> Any:
        return self._send("GET", self._url(path), params=params, raw=raw)

    def _post(self, path: str, **kwargs: Any) -> Any:
        return self._send("POST", self._url(path), **kwargs)

    def _delete(self, path: str, **kwargs: Any) -> Any:
        return self._send("DELETE", self._url(path), **kwargs)

    def _send(self, method: str, url: str, raw: bool = False, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            response = self._session.request(
                method, url, headers=headers, timeout=self._timeout, **kwargs
            )
        except self._requests.RequestException as e:
            raise RafikiClientError("ConnectionError", f"could not reach {url}: {e}") from None
        if response.status_code != 200:
            error, detail = _error_of(response)
            raise RafikiClientError(error, detail, response.status_code)
        if raw:
            return response.content
        try:
            return response.json()
        except ValueError:
            raise RafikiClientError(
                "InvalidResponseError", f"{url} did not answer JSON", 200
            ) from None


def _error_of(response: Any) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        return str(body["error"]), str(body.get("detail", ""))
    text = response.text.strip()
    return f"HTTP{response.status_code}", text[:2000]
