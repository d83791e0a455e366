import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED_NAMES = [
    "BaseModel",
    "Knobs",
    "KnobConfig",
    "Params",
    "BaseKnob",
    "CategoricalKnob",
    "KnobValue",
    "CategoricalValue",
    "IntegerKnob",
    "FloatKnob",
    "FixedKnob",
    "PolicyKnob",
    "ArchKnob",
    "LoggerUtils",
    "DatasetUtils",
    "ImageFilesDataset",
    "CorpusDataset",
    "AudioFilesDataset",
    "utils",
    "logger",
    "dataset",
    "load_model_class",
]


def test_sdk_imports_no_server_packages():
    code = (
        "import sys, rafiki.model, rafiki.model.dev, rafiki.constants, rafiki.advisor\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'celery', 'rest_framework', 'redis'))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_seed_name_is_exported(name):
    import rafiki.model

    assert hasattr(rafiki.model, name)


def test_dataset_utils_has_the_seed_methods():
    from rafiki.model import utils

    for method in (
        "load_dataset_of_corpus",
        "load_dataset_of_image_files",
        "load_dataset_of_audio_files",
        "normalize_images",
        "transform_images",
        "load_images",
    ):
        assert callable(getattr(utils.dataset, method))
    for method in ("log", "define_plot", "define_loss_plot", "log_loss"):
        assert callable(getattr(utils.logger, method))


def test_constants_match_rafiki():
    from rafiki.constants import BudgetOption, ModelDependency, TrialStatus, UserType

    assert BudgetOption.TIME_HOURS == "TIME_HOURS"
    assert ModelDependency.SCIKIT_LEARN == "scikit-learn" and ModelDependency.KERAS == "Keras"
    assert set(TrialStatus.values()) == {"PENDING", "RUNNING", "ERRORED", "COMPLETED"}
    assert "MODEL_DEVELOPER" in UserType.values()
