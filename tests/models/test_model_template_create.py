from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from apps.models.models import ModelTemplate
from apps.models.selectors import model_template_list_available
from apps.models.services import InvalidModelError, model_template_create
from rafiki.model.knob import IntegerKnob, knob_config_from_json
from tests.conftest import FIXTURES, upload


def _stored_files() -> list[str]:
    root = Path(default_storage.location) / "models"
    return [str(p) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_stores_file_and_knob_config(alice) -> None:
    source = FIXTURES / "models" / "toy.py"
    template = model_template_create(
        owner=alice,
        name="toy",
        task="TOY_TASK",
        file=upload(source, "toy.py"),
        class_name="Toy",
        dependencies={"numpy": "1.26"},
        access_right="PUBLIC",
    )
    template.refresh_from_db()
    assert isinstance(knob_config_from_json(template.knob_config)["x"], IntegerKnob)
    with template.model_file.open("rb") as handle:
        assert handle.read() == source.read_bytes()
    assert template.dependencies == {"numpy": "1.26"}
    # Uploads live in the data folder's storage, not under a served static folder.
    assert "static" not in template.model_file.path


BAD_FILES = {
    "syntax error": ("class Broken(:\n    pass\n", "Broken", "line"),
    "no such class": (
        "from rafiki.model import BaseModel\nclass Other(BaseModel):\n    pass\n",
        "Missing",
        "Missing",
    ),
    "not a BaseModel": ("class Plain:\n    pass\n", "Plain", "BaseModel"),
    "abstract methods missing": (
        (
            "from rafiki.model import BaseModel\n"
            "class Half(BaseModel):\n"
            "    @staticmethod\n"
            "    def get_knob_config():\n"
            "        return {}\n"
        ),
        "Half",
        "train",
    ),
    "knob config raises": ("", "Raises", "get_knob_config"),
    "import hangs": (
        "import time\nwhile True:\n    time.sleep(1)\n",
        "Hangs",
        "did not finish within 3 s",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_model_file_is_refused_and_nothing_is_stored(alice, settings, case) -> None:
    settings.MODEL_INSPECT_TIMEOUT_SECONDS = 3
    source, class_name, expected = BAD_FILES[case]
    if case == "knob config raises":
        source = (
            "from rafiki.model import BaseModel\n"
            "class Raises(BaseModel):\n"
            "    @staticmethod\n"
            "    def get_knob_config():\n"
            "        raise ValueError('no config today')\n"
            "    def __init__(self, **knobs): pass\n"
            "    def train(self, dataset_path, shared_params=None, **a): pass\n"
            "    def evaluate(self, dataset_path): return 0\n"
            "    def predict(self, queries): return []\n"
            "    def dump_parameters(self): return {}\n"
            "    def load_parameters(self, params): pass\n"
        )
        class_name = "Raises"
    with pytest.raises(InvalidModelError) as caught:
        model_template_create(
            owner=alice,
            name="bad",
            task="TOY_TASK",
            file=upload(source.encode(), "bad.py"),
            class_name=class_name,
            dependencies={},
            access_right="PRIVATE",
        )
    assert expected.lower() in caught.value.message.lower()
    assert ModelTemplate.objects.count() == 0
    assert _stored_files() == []


def test_name_is_unique_per_owner_only(alice, bob, make_model) -> None:
    make_model(name="same")
    with pytest.raises(InvalidModelError, match="already have a model named 'same'"):
        make_model(name="same")
    make_model(owner=bob, name="same")
    assert ModelTemplate.objects.filter(name="same").count() == 2


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("access_right", "SECRET", "access right"),
        ("dependencies", ["numpy"], "dependencies"),
        ("class_name", "not a name", "class name"),
        ("name", "  ", "needs a name"),
    ],
)
def test_bad_fields_are_refused(alice, field, value, message) -> None:
    kwargs = {
        "owner": alice,
        "name": "toy",
        "task": "TOY_TASK",
        "file": upload(FIXTURES / "models" / "toy.py", "toy.py"),
        "class_name": "Toy",
        "dependencies": {},
        "access_right": "PRIVATE",
    }
    kwargs[field] = value
    with pytest.raises(InvalidModelError, match=message):
        model_template_create(**kwargs)
    assert ModelTemplate.objects.count() == 0


def test_available_models_are_own_and_public(alice, bob, make_model) -> None:
    public = make_model(name="pub", access_right="PUBLIC")
    make_model(name="priv", access_right="PRIVATE")
    bobs = make_model(owner=bob, name="bobs")
    assert set(model_template_list_available(user=bob)) == {public, bobs}
    assert set(model_template_list_available(user=bob, task="OTHER")) == set()
