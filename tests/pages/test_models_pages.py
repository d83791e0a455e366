"""Model pages: list, upload (with the service's errors on the form), detail, download."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.models.models import ModelTemplate
from tests.conftest import FIXTURES, REPO, TOY_TASK

NUMPY_MLP = REPO / "examples" / "models" / "image_classification" / "NumpyMlp.py"


def _upload(client, path, **fields):
    data = {"task": "IMAGE_CLASSIFICATION", "access_right": "PRIVATE", "dependencies": "", **fields}
    data["model_file"] = SimpleUploadedFile(path.name, path.read_bytes())
    return client.post("/models/upload", data, follow=True)


def test_uploading_an_example_model_shows_its_knobs(alice_client):
    response = _upload(alice_client, NUMPY_MLP, dependencies="numpy==1.26")
    template = ModelTemplate.objects.get()
    assert (
        template.model_class == "NumpyMlp" and template.name == "NumpyMlp"
    )  # guessed from the file name
    assert template.dependencies == {"numpy": "1.26"}
    assert response.redirect_chain[-1][0] == f"/models/{template.pk}/"
    page = response.content.decode()
    for knob in ["hidden_units", "learning_rate", "batch_size", "epochs", "early_stop"]:
        assert knob in page
    assert "log" in page  # learning_rate is searched on a log scale
    assert 'class="highlight"' in page  # the source, highlighted


def test_a_bad_model_file_shows_the_reason_on_the_form_and_stores_nothing(alice_client):
    data = {
        "task": TOY_TASK,
        "access_right": "PRIVATE",
        "model_class": "Broken",
        "model_file": SimpleUploadedFile("broken.py", b"class Broken(:\n    pass\n"),
    }
    response = alice_client.post("/models/upload", data)
    assert response.status_code == 200
    assert b"invalid model file" in response.content
    assert b"alert-error" in response.content
    assert not ModelTemplate.objects.exists()


def test_a_missing_class_is_named_in_the_error(alice_client):
    response = _upload(alice_client, NUMPY_MLP, model_class="NoSuchClass")
    assert b"NoSuchClass" in response.content
    assert not ModelTemplate.objects.exists()


def test_bad_dependencies_are_a_field_error(alice_client):
    response = _upload(alice_client, NUMPY_MLP, dependencies='{"numpy": 1}')
    assert b"package -&gt; version" in response.content or b"package -> version" in response.content
    assert not ModelTemplate.objects.exists()


def test_app_developers_cannot_upload_models(bob_client):
    page = bob_client.get("/models/")
    assert b"Upload a model" not in page.content
    response = _upload(bob_client, NUMPY_MLP)
    assert b"App developers use models" in response.content
    assert not ModelTemplate.objects.exists()


def test_list_shows_own_and_public_models_but_not_others_private(
    alice, carol, carol_client, make_model
):
    make_model(owner=alice, name="alice-private")
    make_model(owner=alice, name="alice-public", access_right="PUBLIC")
    make_model(
        owner=carol, name="carol-own", file="fixed.py", class_name="FixedOnly", task="OTHER_TASK"
    )
    page = carol_client.get("/models/").content.decode()
    assert "alice-public" in page and "carol-own" in page
    assert "alice-private" not in page
    filtered = carol_client.get("/models/", {"task": "OTHER_TASK"}).content.decode()
    assert "carol-own" in filtered and "alice-public" not in filtered


def test_empty_model_list_tells_what_to_do(alice_client):
    assert b"No models yet" in alice_client.get("/models/").content


def test_another_users_private_model_is_404(alice, carol_client, make_model):
    private = make_model(owner=alice, name="secret")
    assert carol_client.get(f"/models/{private.pk}/").status_code == 404
    assert carol_client.get(f"/models/{private.pk}/download").status_code == 404


def test_a_public_model_shows_its_knobs_but_only_the_owner_gets_the_source(
    alice, alice_client, carol_client, make_model
):
    public = make_model(owner=alice, name="shared", access_right="PUBLIC")
    page = carol_client.get(f"/models/{public.pk}/")
    assert page.status_code == 200
    assert b"IntegerKnob" not in page.content and b"Integer" in page.content  # knob table
    assert b'class="highlight"' not in page.content
    assert carol_client.get(f"/models/{public.pk}/download").status_code == 404

    download = alice_client.get(f"/models/{public.pk}/download")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == (FIXTURES / "models" / "toy.py").read_bytes()
    assert (
        "attachment" in download["Content-Disposition"]
        and "Toy.py" in download["Content-Disposition"]
    )
