"""The ``utils`` singleton model code uses: ``utils.logger`` and ``utils.dataset``."""

from rafiki.model.dataset import DatasetUtils
from rafiki.model.log import LoggerUtils


class ModelUtils:
    """Holds the logger and the dataset helpers for model code."""

    def __init__(self) -> None:
        self.logger = LoggerUtils()
        self.dataset = DatasetUtils()


utils = ModelUtils()
logger = utils.logger
dataset = utils.dataset
