"""IMAGE_FILES datasets (task IMAGE_CLASSIFICATION) and image helpers.

Format: a zip with ``images.csv`` at its root, columns ``path`` (an image inside the zip) and
``class`` (an integer 0..k-1), plus optional other tag columns.

Arrays follow the numpy/Pillow convention: ``np.asarray(pil_image)`` has shape
(rows, columns, channels), i.e. (height, width, channels). The original Rafiki documentation
calls this "width x height x channels"; for square images, the usual case and what
``min_image_size``/``max_image_size`` produce, the two agree. Keeping Pillow's order means a
training image and a query built with ``np.asarray(Image.open(f))`` have the same layout.
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ._table import TableReader, parse_class, resolve_member_path
from .archive import ArchiveLimits, extracted_zip
from .errors import InvalidDatasetError

IMAGES_CSV = "images.csv"
PATH_COLUMN = "path"
CLASS_COLUMN = "class"

# Pillow can open dozens of formats; some (EPS) run external programs when decoded. Datasets
# only need the common raster formats.
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP")


class ImageDecodeError(Exception):
    """An image file could not be opened; the message says why."""


def open_image(path: str) -> Image.Image:
    """Open and fully decode an image file, refusing decompression bombs and unusual formats."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 89M and 179M pixels; a dataset image that large is an attack.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open(path, "rb") as f:
                image = Image.open(f, formats=IMAGE_FORMATS)
                image.load()
            return image
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as e:
        raise ImageDecodeError(str(e) or type(e).__name__) from None


def _clamp(value: int, low: int | None, high: int | None) -> int:
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


def image_to_array(
    image: Image.Image,
    mode: str | None = "RGB",
    min_image_size: int | None = None,
    max_image_size: int | None = None,
) -> np.ndarray:
    """Convert a Pillow image to a (height, width, channels) uint8 array, converting the mode
    and clamping each side to [min_image_size, max_image_size]."""
    if mode is not None and image.mode != mode:
        image = image.convert(mode)
    width, height = image.size
    size = (
        _clamp(width, min_image_size, max_image_size),
        _clamp(height, min_image_size, max_image_size),
    )
    if size != image.size:
        image = image.resize(size, Image.Resampling.BILINEAR)
    array = np.array(image)
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    return array


@dataclass(frozen=True)
class ImageRow:
    line: int
    path: str  # as written in images.csv
    local_path: str
    image_class: int


def read_images_index(root: str, archive: str) -> list[ImageRow]:
    """Parse ``images.csv`` in an extracted IMAGE_FILES archive (checks paths and classes,
    does not open the images)."""
    csv_path = os.path.join(root, IMAGES_CSV)
    where = f"{archive}: {IMAGES_CSV}"
    if not os.path.isfile(csv_path):
        raise InvalidDatasetError(f"{archive}: no {IMAGES_CSV} at the root of the archive")
    rows: list[ImageRow] = []
    with TableReader(csv_path, where) as table:
        table.require([PATH_COLUMN, CLASS_COLUMN])
        for line, row in table.rows():
            local = resolve_member_path(table, root, PATH_COLUMN, row[PATH_COLUMN])
            image_class = parse_class(table, CLASS_COLUMN, row[CLASS_COLUMN])
            rows.append(ImageRow(line, row[PATH_COLUMN], local, image_class))
    if not rows:
        raise InvalidDatasetError(f"{where}: has a header but no images")
    return rows


def _check_sizes(min_image_size: int | None, max_image_size: int | None) -> None:
    for name, value in (("min_image_size", min_image_size), ("max_image_size", max_image_size)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive int, not {value!r}")
    if (
        min_image_size is not None
        and max_image_size is not None
        and min_image_size > max_image_size
    ):
        raise ValueError(
            f"min_image_size {min_image_size} is larger than max_image_size {max_image_size}"
        )


class ImageFilesDataset:
    """An IMAGE_FILES dataset loaded into memory, for the task IMAGE_CLASSIFICATION.

    ``classes`` is the number of classes k (the largest class number + 1) and ``size`` the
    number of images. Each example is ``(image, image_class)``: ``image`` a uint8 numpy array
    of shape (height, width, channels) in Pillow ``mode`` (``'RGB'`` gives 3 channels, ``'L'``
    gives 1), ``image_class`` an int 0..k-1. Index it (``dataset[i]``), iterate over it, or
    take everything at once with ``to_arrays()``::

        dataset = utils.dataset.load_dataset_of_image_files(dataset_path, max_image_size=32)
        (images, classes) = zip(*[(image, image_class) for (image, image_class) in dataset])
        num_classes = dataset.classes

    ``min_image_size``/``max_image_size`` clamp each side of every image (resizing with
    Pillow), e.g. ``min_image_size=16`` turns 8x8 digits into 16x16. ``if_shuffle`` shuffles
    the order once, at load time. The archive is extracted to a temporary folder that is
    removed before the constructor returns.
    """

    def __init__(
        self,
        dataset_path: str,
        min_image_size: int | None = None,
        max_image_size: int | None = None,
        mode: str = "RGB",
        if_shuffle: bool = False,
        *,
        limits: ArchiveLimits | None = None,
    ):
        _check_sizes(min_image_size, max_image_size)
        self.dataset_path = dataset_path
        self.mode = mode
        archive = os.path.basename(dataset_path)
        images: list[np.ndarray] = []
        labels: list[int] = []
        paths: list[str] = []
        with extracted_zip(dataset_path, limits) as root:
            for row in read_images_index(root, archive):
                try:
                    image = open_image(row.local_path)
                    images.append(image_to_array(image, mode, min_image_size, max_image_size))
                except ImageDecodeError as e:
                    raise InvalidDatasetError(
                        f"{archive}: {IMAGES_CSV}: line {row.line}: {row.path!r} is not a readable image ({e})"
                    ) from None
                labels.append(row.image_class)
                paths.append(row.path)
        order = list(range(len(images)))
        if if_shuffle:
            random.shuffle(order)
        self._images = [images[i] for i in order]
        self._classes = [labels[i] for i in order]
        self.paths: list[str] = [paths[i] for i in order]
        self.size: int = len(self._images)
        self.classes: int = max(self._classes) + 1

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        return self._images[index], self._classes[index]

    def __iter__(self) -> Iterator[tuple[np.ndarray, int]]:
        return iter(zip(self._images, self._classes))

    @property
    def image_classes(self) -> list[int]:
        """The class of every image, in dataset order."""
        return list(self._classes)

    def to_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All images as one (N, height, width, channels) uint8 array and their classes as an
        (N,) int array. The images must share one size (pass ``min_image_size`` and
        ``max_image_size`` equal to resize them all)."""
        shapes = {image.shape for image in self._images}
        if len(shapes) > 1:
            raise ValueError(
                f"images have {len(shapes)} different shapes, e.g. {sorted(shapes)[:2]}; load the dataset "
                "with min_image_size and max_image_size set to the same value to resize them all"
            )
        return np.stack(self._images), np.asarray(self._classes, dtype=np.int64)


def normalize_images(
    images: Any, mean: Sequence[float] | None = None, std: Sequence[float] | None = None
) -> tuple[np.ndarray, list[float], list[float]]:
    """Normalise images per channel: ``(images - mean) / std``.

    ``images`` is array-like of shape (N, height, width, channels) (values as loaded, e.g.
    0..255). When ``mean`` and ``std`` are None they are computed from ``images``; pass the
    values computed on the training set to normalise validation images and queries the same
    way. Returns ``(float32 images, mean, std)`` with ``mean`` and ``std`` as lists of floats,
    one per channel (store them in your params, e.g. with ``json.dumps``). A channel with zero
    spread is divided by 1 instead of 0.
    """
    array = np.asarray(images, dtype=np.float32)
    if array.ndim != 4:
        raise ValueError(
            f"images must have 4 dimensions (N, height, width, channels), not shape {array.shape}"
        )
    axes = (0, 1, 2)
    mean_array = np.mean(array, axis=axes) if mean is None else np.asarray(mean, dtype=np.float32)
    std_array = np.std(array, axis=axes) if std is None else np.asarray(std, dtype=np.float32)
    safe_std = np.where(std_array == 0, 1.0, std_array).astype(np.float32)
    normalized = (array - mean_array.astype(np.float32)) / safe_std
    return (
        normalized,
        [float(v) for v in np.atleast_1d(mean_array)],
        [float(v) for v in np.atleast_1d(std_array)],
    )


def _array_to_image(array: np.ndarray) -> Image.Image:
    if array.dtype != np.uint8:
        # Images from the loaders are uint8 0..255; other dtypes are taken to be on that scale.
        array = np.clip(np.rint(array), 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return Image.fromarray(array)


def transform_images(
    images: Any, image_size: int | None = None, mode: str | None = None
) -> np.ndarray:
    """Resize and/or convert N images.

    ``images`` is array-like of N images, each (height, width, channels) or (height, width),
    with values 0..255; the images may differ in size when given as a list. ``image_size``
    resizes every image to ``image_size`` x ``image_size``; ``mode`` converts to a Pillow mode
    (``'RGB'``, ``'L'``, ...). Returns a uint8 array (N, height, width, channels).
    """
    out: list[np.ndarray] = []
    for i, item in enumerate(images):
        array = np.asarray(item)
        if array.ndim not in (2, 3):
            raise ValueError(
                f"image {i} has shape {array.shape}; expected (height, width[, channels])"
            )
        image = _array_to_image(array)
        out.append(image_to_array(image, mode, image_size, image_size))
    if not out:
        return np.zeros((0, image_size or 0, image_size or 0, 0), dtype=np.uint8)
    return _stack(out)


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"images have different shapes {sorted(shapes)[:3]}; pass image_size to resize them"
        )
    return np.stack(arrays)


def load_images(image_paths: Sequence[str], mode: str = "RGB") -> np.ndarray:
    """Load image files into a (N, height, width, channels) uint8 array in Pillow ``mode``.
    The images must share one size."""
    arrays: list[np.ndarray] = []
    for path in image_paths:
        try:
            arrays.append(image_to_array(open_image(path), mode))
        except ImageDecodeError as e:
            raise InvalidDatasetError(
                f"{os.path.basename(path)}: not a readable image ({e})"
            ) from None
    if not arrays:
        return np.zeros((0, 0, 0, 0), dtype=np.uint8)
    return _stack(arrays)
