"""The ``utils`` singleton model code uses: ``utils.logger`` and ``utils.dataset``."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from rafiki.model.log import LoggerUtils


class ModelUtils:
    """Holds the logger and the dataset helpers for model code.

    The dataset helpers (and Pillow with them) are imported on first use: a trial whose model
    never touches them starts faster.
    """

    def __init__(self) -> None:
        self.logger = LoggerUtils()
        self._dataset: Any = None

    @property
    def dataset(self) -> Any:
        if self._dataset is None:
            package = importlib.import_module("rafiki.model.dataset")
            self._dataset = package.DatasetUtils()
            # Importing the package set ``rafiki.model.dataset`` to the package; model files
            # expect ``from rafiki.model import dataset`` to be these helpers, as in Rafiki.
            sys.modules["rafiki.model"].dataset = self._dataset
        return self._dataset


utils = ModelUtils()
logger = utils.logger
