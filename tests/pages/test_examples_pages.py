"""The examples page: a new user downloads a model file and datasets in the browser and
uploads them with the forms, with no terminal."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.dashboard.examples import EXAMPLE_DATASETS, example_models
from apps.datasets.models import Dataset
from apps.models.models import ModelTemplate
from tests.conftest import REPO


def _download(client, url: str) -> tuple[str, bytes]:
    """The file name the browser would save it under, and its content."""
    response = client.get(url)
    assert response.status_code == 200, url
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    return disposition.split("filename=", 1)[1].strip('"'), b"".join(response.streaming_content)


def test_the_examples_page_links_every_example(alice_client) -> None:
    page = alice_client.get("/examples/").content.decode()
    models = example_models()
    assert {m.class_name for m in models} >= {"NumpyMlp", "SkLogisticRegression", "BigramHmm"}
    for model in models:
        assert f'href="/examples/models/{model.task}/{model.file_name}"' in page
    for dataset in EXAMPLE_DATASETS:
        for split in ("train", "val", "test"):
            assert f'href="/examples/datasets/{dataset.key}/{split}"' in page
    assert 'href="/examples/"' in alice_client.get("/models/upload").content.decode()
    assert 'href="/examples/"' in alice_client.get("/datasets/upload").content.decode()


def test_a_downloaded_example_model_uploads_through_the_form(alice_client) -> None:
    url = "/examples/models/IMAGE_CLASSIFICATION/SkLogisticRegression.py"
    name, content = _download(alice_client, url)
    assert name == "SkLogisticRegression.py"
    path = REPO / "examples" / "models" / "image_classification" / "SkLogisticRegression.py"
    assert content == path.read_bytes()
    alice_client.post(
        "/models/upload",
        {
            "task": "IMAGE_CLASSIFICATION", "access_right": "PRIVATE", "dependencies": "",
            "model_file": SimpleUploadedFile(name, content),
        },
    )  # fmt: skip
    assert ModelTemplate.objects.get().model_class == "SkLogisticRegression"


@pytest.mark.parametrize("dataset", EXAMPLE_DATASETS, ids=lambda d: d.key)
def test_downloaded_example_datasets_upload_through_the_form(alice_client, dataset) -> None:
    for split in ("train", "val"):
        name, content = _download(alice_client, f"/examples/datasets/{dataset.key}/{split}")
        response = alice_client.post(
            "/datasets/upload",
            {
                "name": f"{dataset.key}-{split}", "task": dataset.task,
                "data_file": SimpleUploadedFile(name, content),
            },
        )  # fmt: skip
        assert response.status_code == 302, response.content.decode()[-2000:]
    stored = Dataset.objects.filter(task=dataset.task)
    assert stored.count() == 2 and all(d.summary for d in stored)


def test_examples_need_a_login_and_name_only_real_files(alice_client, client) -> None:
    assert client.get("/examples/").status_code == 302
    assert client.get("/examples/datasets/digits/train").status_code == 302
    for url in (
        "/examples/models/IMAGE_CLASSIFICATION/..%2F..%2Fmanage.py",
        "/examples/models/IMAGE_CLASSIFICATION/NoSuch.py",
        "/examples/models/NOT_A_TASK/NumpyMlp.py",
        "/examples/datasets/nosuch/train",
        "/examples/datasets/digits/holdout",
    ):
        assert alice_client.get(url).status_code == 404, url
