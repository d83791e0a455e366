"""Bad requests are 4xx in the one error shape, never 500: malformed JSON, missing fields,
wrong types, unknown ids, huge bodies, too many files."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.accounts.models import User
from tests.api_fixtures import assert_error
from tests.conftest import FIXTURES, TOY_TASK


@pytest.fixture
def client(alice: User, client_for) -> APIClient:
    return client_for(alice)


def test_malformed_json_is_a_malformed_request(client: APIClient) -> None:
    for body in ["{nope", '{"app": ', "\xff\xfe", "NaN-ish"]:
        response = client.generic("POST", "/api/train-jobs/", body, content_type="application/json")
        assert_error(response, 400, "MalformedRequestError")


def test_missing_fields_and_wrong_types_name_the_field(client: APIClient) -> None:
    body = assert_error(
        client.post("/api/train-jobs/", {}, format="json"), 400, "InvalidRequestError"
    )
    assert "app" in body["detail"] and "model_ids" in body["detail"]
    body = assert_error(
        client.post(
            "/api/train-jobs/",
            {
                "app": "a",
                "task": "T",
                "train_dataset_id": "x",
                "val_dataset_id": 1,
                "model_ids": "1",
                "budget": [1],
            },
            format="json",
        ),
        400,
        "InvalidRequestError",
    )
    assert "train_dataset_id" in body["detail"] and "budget" in body["detail"]
    assert_error(client.post("/api/train-jobs/", [1, 2], format="json"), 400, "InvalidRequestError")
    body = assert_error(
        client.post(
            "/api/train-jobs/",
            {
                "app": "a",
                "task": "T",
                "train_dataset_id": 1,
                "val_dataset_id": 1,
                "model_ids": [1],
                "budget": {"NOPE": 1},
            },
            format="json",
        ),
        400,
        "InvalidTrainJobError",
    )
    assert "NOPE" in body["detail"]
    assert_error(
        client.get("/api/train-jobs/1/best-trials/", {"max_count": "many"}),
        400,
        "InvalidRequestError",
    )
    assert_error(client.get("/api/trials/1/logs/", {"after": -5}), 400, "InvalidRequestError")


def test_unknown_ids_and_routes_are_404(client: APIClient) -> None:
    assert_error(client.get("/api/models/987654/"), 404, "InvalidModelError")
    assert_error(client.get("/api/datasets/987654/"), 404, "InvalidDatasetError")
    assert_error(client.get("/api/train-jobs/987654/"), 404, "InvalidTrainJobError")
    assert_error(client.get("/api/trials/987654/parameters/"), 404, "InvalidTrialError")
    assert_error(
        client.get("/api/trials/" + "9" * 40 + "/"), 404, "NotFoundError"
    )  # no integer overflow
    assert_error(client.get("/api/apps/nope/versions/-2/"), 404, "NotFoundError")
    assert_error(client.get("/api/no-such-thing/"), 404, "NotFoundError")


def test_wrong_method_and_unsupported_media_type(client: APIClient) -> None:
    assert_error(client.put("/api/models/1/"), 405, "MethodNotAllowedError")
    response = client.generic("POST", "/api/train-jobs/", "<x/>", content_type="application/xml")
    assert_error(response, 415, "UnsupportedMediaTypeError")
    response = client.post("/api/models/", {"name": "x"}, format="json")  # uploads are multipart
    assert_error(response, 415, "UnsupportedMediaTypeError")


def test_a_huge_json_body_is_refused(client: APIClient, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"app": "' + "a" * 5000 + '"}'
    assert_error(
        client.generic("POST", "/api/train-jobs/", body, content_type="application/json"),
        413,
        "RequestTooLargeError",
    )


def test_a_model_file_over_the_limit_is_refused(client: APIClient, settings) -> None:
    settings.MAX_MODEL_FILE_MB = 1
    big = SimpleUploadedFile("big.py", b"#" * (2 * 2**20))
    body = assert_error(
        client.post(
            "/api/models/",
            {"name": "b", "task": TOY_TASK, "model_class": "B", "model_file": big},
            format="multipart",
        ),
        400,
        "InvalidModelError",
    )
    assert "limit" in body["detail"]


def test_too_many_files_in_one_request_is_refused(client: APIClient, settings) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 5
    files = {f"f{i}": SimpleUploadedFile(f"{i}.txt", b"x") for i in range(6)}
    response = client.post(
        "/api/datasets/", {"name": "d", "task": TOY_TASK, **files}, format="multipart"
    )
    assert_error(response, 400, "TooManyFilesError")


def test_too_many_form_fields_are_refused(client: APIClient, settings) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = {f"k{i}": "v" for i in range(20)}
    response = client.post(
        "/api/datasets/", {"name": "d", "task": TOY_TASK, **fields}, format="multipart"
    )
    assert_error(response, 400, "TooManyFieldsError")


def test_a_model_that_is_not_a_model_is_an_invalid_model(client: APIClient) -> None:
    not_python = SimpleUploadedFile("m.py", b"\x00\x01binary")
    assert_error(
        client.post(
            "/api/models/",
            {"name": "m", "task": TOY_TASK, "model_class": "Toy", "model_file": not_python},
            format="multipart",
        ),
        400,
        "InvalidModelError",
    )
    toy = SimpleUploadedFile("t.py", (FIXTURES / "models" / "toy.py").read_bytes())
    body = assert_error(
        client.post(
            "/api/models/",
            {
                "name": "m",
                "task": TOY_TASK,
                "model_class": "Toy",
                "dependencies": "[1]",
                "model_file": toy,
            },
            format="multipart",
        ),
        400,
        "InvalidRequestError",
    )
    assert "dependencies" in body["detail"]
