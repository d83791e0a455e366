"""Checking a dataset file at upload time, before any trial wastes a worker on it.

``validate_dataset(task, path)`` accepts a well-formed file and returns a JSON-serialisable
summary (the platform stores and shows it); a malformed or unsafe file raises
``InvalidDatasetError`` with a message naming the file, archive member, csv line or column.
"""

from __future__ import annotations

import hashlib
import os
import wave
from collections import Counter
from collections.abc import Callable
from typing import Any

from rafiki.constants import TASK_DATASET_TYPE, DatasetType, TaskType

from .archive import ArchiveLimits, extracted_zip
from .audio import AUDIOS_CSV, SAMPLE_RATE, read_audios_index
from .corpus import read_corpus
from .errors import InvalidDatasetError
from .images import IMAGES_CSV, ImageDecodeError, open_image, read_images_index
from .tabular import read_table

POS_TAG_COLUMN = "tag"

Summary = dict[str, Any]


def _file_facts(path: str) -> Summary:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1024 * 1024):
                digest.update(chunk)
    except FileNotFoundError:
        raise InvalidDatasetError(
            f"{os.path.basename(path)}: the dataset file does not exist"
        ) from None
    return {
        "file": os.path.basename(path),
        "size_bytes": os.path.getsize(path),
        "sha256": digest.hexdigest(),
    }


def _class_summary(classes: list[int]) -> Summary:
    k = max(classes) + 1
    counts = [0] * k
    for c in classes:
        counts[c] += 1
    return {
        "classes": k,
        "class_counts": counts,
        "missing_classes": [c for c, n in enumerate(counts) if n == 0],
    }


def _validate_image_files(path: str, task: str, limits: ArchiveLimits | None) -> Summary:
    archive = os.path.basename(path)
    sizes: Counter[tuple[int, int]] = Counter()
    modes: Counter[str] = Counter()
    with extracted_zip(path, limits) as root:
        rows = read_images_index(root, archive)
        for row in rows:
            try:
                image = open_image(row.local_path)
            except ImageDecodeError as e:
                raise InvalidDatasetError(
                    f"{archive}: {IMAGES_CSV}: line {row.line}, column 'path': {row.path!r} is not a "
                    f"readable image ({e})"
                ) from None
            sizes[image.size] += 1
            modes[image.mode] += 1
    same_size = len(sizes) == 1
    ((common_size, _),) = sizes.most_common(1)
    return {
        "images": len(rows),
        **_class_summary([row.image_class for row in rows]),
        "same_size": same_size,
        # [width, height]; when sizes differ, the most common one.
        "image_size": list(common_size),
        "image_sizes": {f"{w}x{h}": n for (w, h), n in sizes.most_common(10)},
        "modes": dict(modes),
    }


def _validate_corpus(path: str, task: str, limits: ArchiveLimits | None) -> Summary:
    archive = os.path.basename(path)
    with extracted_zip(path, limits) as root:
        corpus = read_corpus(root, archive)
    if task == TaskType.POS_TAGGING and POS_TAG_COLUMN not in corpus.tags:
        raise InvalidDatasetError(
            f"{archive}: corpus.tsv: missing column {POS_TAG_COLUMN!r} (POS_TAGGING needs the tag of each token)"
        )
    return {
        "tokens": corpus.tokens,
        "sentences": len(corpus.sentences),
        "max_sentence_length": max(len(s) for s in corpus.sentences),
        "tags": {
            tag: {
                "classes": k,
                "class_counts": counts,
                "missing_classes": [c for c, n in enumerate(counts) if n == 0],
            }
            for tag, k, counts in zip(corpus.tags, corpus.tag_num_classes, corpus.class_counts)
        },
    }


def _validate_tabular(path: str, task: str, limits: ArchiveLimits | None) -> Summary:
    columns, stats, rows = read_table(path, keep_values=False)
    return {
        "rows": rows,
        "columns": columns,
        "numeric_columns": [c for c in columns if stats[c].numeric],
        "missing_values": {c: stats[c].missing for c in columns if stats[c].missing},
    }


def _validate_audio_files(path: str, task: str, limits: ArchiveLimits | None) -> Summary:
    archive = os.path.basename(path)
    where = f"{archive}: {AUDIOS_CSV}"
    seconds = 0.0
    channels: Counter[int] = Counter()
    with extracted_zip(path, limits) as root:
        rows = read_audios_index(root, archive)
        for row in rows:
            name = os.path.relpath(row.wav_filename, root)
            at = f"{where}: line {row.line}, column 'wav_filename'"
            actual_size = os.path.getsize(row.wav_filename)
            if actual_size != row.wav_filesize:
                raise InvalidDatasetError(
                    f"{where}: line {row.line}, column 'wav_filesize': {name!r} is {actual_size} bytes, "
                    f"not {row.wav_filesize}"
                )
            try:
                with wave.open(row.wav_filename, "rb") as wav:
                    rate, frames, n_channels = (
                        wav.getframerate(),
                        wav.getnframes(),
                        wav.getnchannels(),
                    )
            except (wave.Error, EOFError, OSError) as e:
                raise InvalidDatasetError(
                    f"{at}: {name!r} is not a readable wav file ({e})"
                ) from None
            if rate != SAMPLE_RATE:
                raise InvalidDatasetError(
                    f"{at}: {name!r} is sampled at {rate} Hz, not {SAMPLE_RATE} Hz"
                )
            seconds += frames / rate
            channels[n_channels] += 1
    return {
        "audios": len(rows),
        "sample_rate": SAMPLE_RATE,
        "total_seconds": round(seconds, 3),
        "channels": {str(n): count for n, count in channels.items()},
    }


_VALIDATORS: dict[str, Callable[[str, str, ArchiveLimits | None], Summary]] = {
    DatasetType.IMAGE_FILES: _validate_image_files,
    DatasetType.CORPUS: _validate_corpus,
    DatasetType.TABULAR: _validate_tabular,
    DatasetType.AUDIO_FILES: _validate_audio_files,
}


def validate_dataset(task: str, path: str, limits: ArchiveLimits | None = None) -> Summary:
    """Check that the file at ``path`` is a well-formed dataset for ``task`` and summarise it.

    Known tasks (``rafiki.constants.TaskType``) are checked against their dataset type
    (``TASK_DATASET_TYPE``): IMAGE_FILES (every image opens; summary ``images``, ``classes``,
    ``class_counts``, ``image_size`` [width, height], ``same_size``, ``modes``), CORPUS
    (``tokens``, ``sentences``, ``tags``), TABULAR (``rows``, ``columns``,
    ``numeric_columns``) and AUDIO_FILES (every wav opens and is 16 kHz; ``audios``,
    ``total_seconds``). Any other task is a custom task whose file is not inspected. Every
    summary also has ``task``, ``dataset_type`` (None for custom tasks), ``file``,
    ``size_bytes`` and ``sha256``. Zip archives are extracted to a temporary folder with
    ``safe_extract_zip`` under ``limits``.

    Raises ``InvalidDatasetError`` whose message names the file and, where it applies, the
    archive member, the csv line (1-based, header = line 1) or the column.
    """
    path = os.fspath(path)
    facts = _file_facts(path)
    dataset_type = TASK_DATASET_TYPE.get(task)
    summary: Summary = {"task": task, "dataset_type": dataset_type, **facts}
    if dataset_type is None:
        return summary
    return {**summary, **_VALIDATORS[dataset_type](path, task, limits)}


def validate_dataset_pair(task: str, train_summary: Summary, val_summary: Summary) -> None:
    """Check that a training and a validation dataset can be used together, from the
    summaries ``validate_dataset`` returned for them. Raises ``InvalidDatasetError`` saying
    what differs.

    IMAGE_CLASSIFICATION: same number of classes k, and when all training images share one
    size, validation images share that same width x height. POS_TAGGING: the validation
    corpus has the training tag columns and no tag class the training corpus lacks.
    TABULAR tasks: the same columns. Other tasks: no check.
    """
    dataset_type = TASK_DATASET_TYPE.get(task)
    if dataset_type == DatasetType.IMAGE_FILES:
        if train_summary["classes"] != val_summary["classes"]:
            raise InvalidDatasetError(
                f"the training dataset ({train_summary['file']}) has {train_summary['classes']} classes but "
                f"the validation dataset ({val_summary['file']}) has {val_summary['classes']}; "
                "both must use the same classes 0..k-1"
            )
        if train_summary["same_size"]:
            train_size = "x".join(map(str, train_summary["image_size"]))
            val_size = "x".join(map(str, val_summary["image_size"]))
            if not val_summary["same_size"]:
                raise InvalidDatasetError(
                    f"training images ({train_summary['file']}) are all {train_size} but validation images "
                    f"({val_summary['file']}) have several sizes: {', '.join(val_summary['image_sizes'])}"
                )
            if train_size != val_size:
                raise InvalidDatasetError(
                    f"training images ({train_summary['file']}) are {train_size} (width x height) but "
                    f"validation images ({val_summary['file']}) are {val_size}"
                )
    elif dataset_type == DatasetType.CORPUS:
        for tag, train_tag in train_summary["tags"].items():
            val_tag = val_summary["tags"].get(tag)
            if val_tag is None:
                raise InvalidDatasetError(
                    f"the validation corpus ({val_summary['file']}) has no column {tag!r}"
                )
            if val_tag["classes"] > train_tag["classes"]:
                raise InvalidDatasetError(
                    f"column {tag!r}: the validation corpus ({val_summary['file']}) uses class "
                    f"{val_tag['classes'] - 1} but the training corpus ({train_summary['file']}) only has "
                    f"classes 0..{train_tag['classes'] - 1}"
                )
    elif dataset_type == DatasetType.TABULAR and train_summary["columns"] != val_summary["columns"]:
        raise InvalidDatasetError(
            f"the training table ({train_summary['file']}) has columns {train_summary['columns']} "
            f"but the validation table ({val_summary['file']}) has {val_summary['columns']}"
        )
