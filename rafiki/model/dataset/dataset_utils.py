"""``DatasetUtils``: the dataset helpers model files reach through ``utils.dataset``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import images as _images
from .audio import AudioFilesDataset
from .corpus import SENTENCE_DELIMITER, CorpusDataset
from .images import ImageFilesDataset
from .tabular import TabularDataset


class DatasetUtils:
    """Helpers to load datasets in the formats of the platform's tasks.

    Using them is optional: a model may read its dataset file any way it likes. Don't create
    one; use the ``utils`` instance from ``rafiki.model``::

        from rafiki.model import utils

        def train(self, dataset_path, **kwargs):
            dataset = utils.dataset.load_dataset_of_image_files(dataset_path)
    """

    def load_dataset_of_corpus(
        self,
        dataset_path: str,
        tags: Sequence[str] | None = None,
        split_by: str = SENTENCE_DELIMITER,
    ) -> CorpusDataset:
        """Load a CORPUS dataset (task POS_TAGGING) from the zip at ``dataset_path``.

        ``tags``: the tag columns to read (default: all but ``token``); ``split_by``: the token
        that ends a sentence (default the two characters ``\\n``). Returns a ``CorpusDataset``.
        """
        return CorpusDataset(dataset_path, tags, split_by)

    def load_dataset_of_image_files(
        self,
        dataset_path: str,
        min_image_size: int | None = None,
        max_image_size: int | None = None,
        mode: str = "RGB",
        if_shuffle: bool = False,
    ) -> ImageFilesDataset:
        """Load an IMAGE_FILES dataset (task IMAGE_CLASSIFICATION) from the zip at
        ``dataset_path`` into memory.

        ``min_image_size``/``max_image_size``: the smallest/largest width and height; each
        image side outside the range is resized to it. ``mode``: the Pillow mode to convert
        images to (``'RGB'``, ``'L'`` for grayscale, ...). ``if_shuffle``: shuffle the order.
        Returns an ``ImageFilesDataset``.
        """
        return ImageFilesDataset(dataset_path, min_image_size, max_image_size, mode, if_shuffle)

    def load_dataset_of_audio_files(self, dataset_path: str, dataset_dir: str) -> AudioFilesDataset:
        """Load an AUDIO_FILES dataset (task SPEECH_RECOGNITION): extract the zip at
        ``dataset_path`` into the folder ``dataset_dir`` (yours to create and remove) and read
        its ``audios.csv``. Returns an ``AudioFilesDataset``."""
        return AudioFilesDataset(dataset_path, dataset_dir)

    def load_dataset_of_tabular(
        self, dataset_path: str, features: Sequence[str] | None = None, target: str | None = None
    ) -> TabularDataset:
        """Load a TABULAR csv dataset. ``features``: the feature columns (default: every column
        but the target); ``target``: the target column (default: the last). Pass the
        ``features``/``target`` train args through. Returns a ``TabularDataset``."""
        return TabularDataset(dataset_path, features, target)

    def normalize_images(
        self, images: Any, mean: Sequence[float] | None = None, std: Sequence[float] | None = None
    ) -> tuple[np.ndarray, list[float], list[float]]:
        return _images.normalize_images(images, mean, std)

    normalize_images.__doc__ = _images.normalize_images.__doc__

    def transform_images(
        self, images: Any, image_size: int | None = None, mode: str | None = None
    ) -> np.ndarray:
        return _images.transform_images(images, image_size, mode)

    transform_images.__doc__ = _images.transform_images.__doc__

    def load_images(self, image_paths: Sequence[str], mode: str = "RGB") -> np.ndarray:
        return _images.load_images(image_paths, mode)

    load_images.__doc__ = _images.load_images.__doc__
