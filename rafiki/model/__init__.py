"""The Rafiki model SDK: what a model file imports.

    from rafiki.model import BaseModel, IntegerKnob, FloatKnob, CategoricalKnob, FixedKnob, \\
        PolicyKnob, ArchKnob, KnobValue, utils, logger, dataset
    from rafiki.model.dev import test_model_class
"""

from rafiki.model.knob import (
    ArchKnob,
    BaseKnob,
    CategoricalKnob,
    CategoricalValue,
    FixedKnob,
    FloatKnob,
    IntegerKnob,
    KnobValue,
    Policy,
    PolicyKnob,
)
from rafiki.model.log import LoggerUtils
from rafiki.model.model import BaseModel, KnobConfig, Knobs, Params, load_model_class
from rafiki.model.params import load_params, save_params
from rafiki.model.utils import logger, utils

_DATASET_NAMES = ("AudioFilesDataset", "CorpusDataset", "DatasetUtils", "ImageFilesDataset")


def __getattr__(name: str):
    # The dataset helpers load Pillow: they are imported when first asked for (PEP 562).
    if name == "dataset":
        return utils.dataset
    if name in _DATASET_NAMES:
        utils.dataset  # noqa: B018  (imports the package and fixes the `dataset` attribute)
        import importlib

        return getattr(importlib.import_module("rafiki.model.dataset"), name)
    raise AttributeError(f"module 'rafiki.model' has no attribute {name!r}")


__all__ = [
    "ArchKnob",
    "AudioFilesDataset",
    "BaseKnob",
    "BaseModel",
    "CategoricalKnob",
    "CategoricalValue",
    "CorpusDataset",
    "DatasetUtils",
    "FixedKnob",
    "FloatKnob",
    "ImageFilesDataset",
    "IntegerKnob",
    "KnobConfig",
    "KnobValue",
    "Knobs",
    "LoggerUtils",
    "Params",
    "Policy",
    "PolicyKnob",
    "dataset",
    "load_model_class",
    "load_params",
    "logger",
    "save_params",
    "utils",
]
