"""Datasets: loaders for model authors, and safe archive handling and validation for the
platform.

Model authors normally use ``utils.dataset`` (a ``DatasetUtils``) from ``rafiki.model``. The
formats, one per dataset type (see ``rafiki.constants.TASK_DATASET_TYPE``):

- IMAGE_FILES: a zip with ``images.csv`` (columns ``path``, ``class``) -> ``ImageFilesDataset``
- CORPUS: a zip with ``corpus.tsv`` (columns ``token``, ``tag``...) -> ``CorpusDataset``
- TABULAR: a csv, features then target -> ``TabularDataset``
- AUDIO_FILES: a zip with ``audios.csv`` (``wav_filename``, ``wav_filesize``, ``transcript``)
  and 16 kHz wav files -> ``AudioFilesDataset``

Every problem with a file is an ``InvalidDatasetError`` (a ``ValueError``) naming the file,
member, line or column.
"""

from __future__ import annotations

from .archive import DEFAULT_LIMITS, ArchiveLimits, extracted_zip, safe_extract_zip
from .audio import AudioFilesDataset
from .corpus import CorpusDataset
from .dataset_utils import DatasetUtils
from .errors import InvalidDatasetError
from .images import ImageFilesDataset, load_images, normalize_images, transform_images
from .tabular import TabularDataset
from .validate import validate_dataset, validate_dataset_pair

# ``from rafiki.model import dataset`` may give either this module or the ``utils.dataset``
# instance depending on how the package is wired; the loaders work on both.
_default = DatasetUtils()
load_dataset_of_corpus = _default.load_dataset_of_corpus
load_dataset_of_image_files = _default.load_dataset_of_image_files
load_dataset_of_audio_files = _default.load_dataset_of_audio_files
load_dataset_of_tabular = _default.load_dataset_of_tabular

__all__ = [
    "DEFAULT_LIMITS",
    "ArchiveLimits",
    "AudioFilesDataset",
    "CorpusDataset",
    "DatasetUtils",
    "ImageFilesDataset",
    "InvalidDatasetError",
    "TabularDataset",
    "extracted_zip",
    "load_dataset_of_audio_files",
    "load_dataset_of_corpus",
    "load_dataset_of_image_files",
    "load_dataset_of_tabular",
    "load_images",
    "normalize_images",
    "safe_extract_zip",
    "transform_images",
    "validate_dataset",
    "validate_dataset_pair",
]
