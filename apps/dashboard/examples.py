"""Example model files and datasets to download from the dashboard, so that a new user can
go through the whole flow in the browser: download, upload, tune, watch, deploy.

The model files are the ones in ``examples/models/<task>/<Class>.py``. The datasets are
built on first request by the builders in ``examples/datasets/`` from data that ships inside
installed packages (scikit-learn's digits, iris and diabetes; a generated corpus and audio),
then kept under ``$RAFIKI_DATA_DIR/examples``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from rafiki.constants import TaskType

EXAMPLES_DIR = Path(settings.BASE_DIR) / "examples"
_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ExampleModel:
    task: str
    class_name: str
    path: Path

    @property
    def file_name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class ExampleDataset:
    key: str
    task: str
    module: str  # in examples/datasets/
    builder: str
    about: str


EXAMPLE_DATASETS = (
    ExampleDataset(
        "digits", TaskType.IMAGE_CLASSIFICATION, "image_digits", "build_digits",
        "scikit-learn's handwritten digits as 16x16 PNGs, classes 0-9",
    ),
    ExampleDataset(
        "iris", TaskType.TABULAR_CLASSIFICATION, "tabular", "build_iris",
        "the iris flowers: four measurements, three species",
    ),
    ExampleDataset(
        "diabetes", TaskType.TABULAR_REGRESSION, "tabular", "build_diabetes",
        "ten patient measurements and a disease progression score",
    ),
    ExampleDataset(
        "pos", TaskType.POS_TAGGING, "pos_corpus", "build_pos_corpus",
        "a generated corpus of tagged sentences",
    ),
    ExampleDataset(
        "audio", TaskType.SPEECH_RECOGNITION, "audio", "build_audio",
        "generated tones with their transcripts",
    ),
)  # fmt: skip


def example_models() -> list[ExampleModel]:
    """Every example model file, by task then class name."""
    found = []
    for path in sorted((EXAMPLES_DIR / "models").glob("*/*.py")):
        task = path.parent.name.upper()
        if task in TaskType.values():
            found.append(ExampleModel(task=task, class_name=path.stem, path=path))
    return found


def example_model(task: str, file_name: str) -> ExampleModel | None:
    return next((m for m in example_models() if m.task == task and m.file_name == file_name), None)


def example_dataset(key: str) -> ExampleDataset | None:
    return next((d for d in EXAMPLE_DATASETS if d.key == key), None)


def example_dataset_files(dataset: ExampleDataset) -> dict[str, Path]:
    """Split name -> file of the built dataset (built now if this is the first request)."""
    target = Path(settings.DATA_DIR) / "examples" / dataset.key
    if not (target / _MANIFEST).exists():
        _build(dataset, target)
    names = json.loads((target / _MANIFEST).read_text())
    return {split: target / name for split, name in names.items()}


def _build(dataset: ExampleDataset, target: Path) -> None:
    # Built aside and renamed into place: two requests at once build twice, one wins.
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{dataset.key}-", dir=target.parent))
    try:
        spec = importlib.util.spec_from_file_location(
            f"rafiki_examples_{dataset.module}", EXAMPLES_DIR / "datasets" / f"{dataset.module}.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        paths = getattr(module, dataset.builder)(str(scratch))
        names = {split: os.path.basename(path) for split, path in paths.items()}
        (scratch / _MANIFEST).write_text(json.dumps(names))
        try:
            scratch.rename(target)
        except OSError:
            if not (target / _MANIFEST).exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
