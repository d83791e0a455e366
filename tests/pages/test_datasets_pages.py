"""Dataset pages: upload (errors on the form), list, detail with summary and preview."""

from __future__ import annotations

import importlib.util

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.datasets.models import Dataset
from tests.conftest import REPO


@pytest.fixture(scope="session")
def digits(tmp_path_factory) -> dict[str, str]:
    spec = importlib.util.spec_from_file_location(
        "image_digits", REPO / "examples" / "datasets" / "image_digits.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_digits(str(tmp_path_factory.mktemp("digits")))


def _post(client, path, task, name=""):
    with open(path, "rb") as handle:
        data = {
            "name": name,
            "task": task,
            "data_file": SimpleUploadedFile(str(path).rsplit("/", 1)[-1], handle.read()),
        }
    return client.post("/datasets/upload", data, follow=True)


def test_uploading_an_image_dataset_shows_summary_and_a_grid_of_samples(alice_client, digits):
    response = _post(alice_client, digits["train"], "IMAGE_CLASSIFICATION", name="digits-train")
    dataset = Dataset.objects.get()
    assert response.redirect_chain[-1][0] == f"/datasets/{dataset.pk}/"
    page = response.content.decode()
    assert "IMAGE_FILES" in page and "16 × 16" in page
    assert page.count('class="thumb"') == 24
    for digit in range(10):  # the sample spreads over the classes
        assert f"class {digit}<" in page
    thumb = alice_client.get(f"/datasets/{dataset.pk}/thumbs/0.png")
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/png"
    assert thumb.content.startswith(b"\x89PNG")


def test_a_tabular_dataset_previews_its_first_rows(alice_client):
    csv = b"sepal,petal,species\n5.1,1.4,0\n4.9,1.3,0\n6.3,4.9,1\n"
    response = alice_client.post(
        "/datasets/upload",
        {
            "name": "tiny",
            "task": "TABULAR_CLASSIFICATION",
            "data_file": SimpleUploadedFile("tiny.csv", csv),
        },
        follow=True,
    )
    page = response.content.decode()
    assert 'id="preview-table"' in page
    assert "<th>sepal</th>" in page and "<td>6.3</td>" in page


def test_an_invalid_dataset_shows_the_validator_message_and_stores_nothing(alice_client):
    response = alice_client.post(
        "/datasets/upload",
        {
            "name": "bad",
            "task": "IMAGE_CLASSIFICATION",
            "data_file": SimpleUploadedFile("bad.zip", b"not a zip at all"),
        },
    )
    assert response.status_code == 200
    assert b"invalid dataset" in response.content and b"not a valid zip archive" in response.content
    assert not Dataset.objects.exists()


def test_a_custom_task_dataset_is_stored_as_it_is(alice_client):
    response = alice_client.post(
        "/datasets/upload",
        {"name": "", "task": "MY_TASK", "data_file": SimpleUploadedFile("notes.txt", b"anything")},
        follow=True,
    )
    dataset = Dataset.objects.get()
    assert dataset.name == "notes"
    assert b"custom task" in response.content


def test_list_and_empty_state(alice_client, make_dataset):
    assert b"No datasets yet" in alice_client.get("/datasets/").content
    make_dataset(name="first")
    page = alice_client.get("/datasets/").content.decode()
    assert "first" in page and "custom file" in page


def test_another_users_dataset_is_404(alice, carol_client, make_dataset):
    dataset = make_dataset(owner=alice)
    for url in [
        f"/datasets/{dataset.pk}/",
        f"/datasets/{dataset.pk}/download",
        f"/datasets/{dataset.pk}/thumbs/0.png",
    ]:
        assert carol_client.get(url).status_code == 404, url
    assert b"No datasets yet" in carol_client.get("/datasets/").content


def test_download_returns_the_file(alice_client, make_dataset):
    dataset = make_dataset(name="raw", content=b"some bytes\n")
    response = alice_client.get(f"/datasets/{dataset.pk}/download")
    assert b"".join(response.streaming_content) == b"some bytes\n"


def test_the_upload_form_has_a_progress_bar_that_degrades_without_js(alice_client):
    page = alice_client.get("/datasets/upload").content.decode()
    assert 'enctype="multipart/form-data"' in page and "data-progress" in page
    assert 'id="upload-bar"' in page and "js/upload.js" in page
