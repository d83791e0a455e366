"""Writes for uploaded datasets."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import PurePath
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction

from apps.accounts.models import User
from apps.datasets.models import Dataset
from rafiki.constants import TASK_DATASET_TYPE, DatasetType

_CHUNK = 1024 * 1024
_DEFAULT_SUFFIX = {
    DatasetType.IMAGE_FILES: ".zip",
    DatasetType.CORPUS: ".zip",
    DatasetType.AUDIO_FILES: ".zip",
    DatasetType.TABULAR: ".csv",
}


class InvalidDatasetUploadError(ValidationError):
    """A dataset upload was refused; the message names the problem (file, member, row...)."""


def _suffix(file: IO[bytes], task: str) -> str:
    name = getattr(file, "name", "") or ""
    suffix = PurePath(str(name)).suffix.lower()
    if suffix and len(suffix) <= 10 and suffix[1:].isalnum():
        return suffix
    return _DEFAULT_SUFFIX.get(TASK_DATASET_TYPE.get(task, ""), ".bin")


def _local_name(file: IO[bytes], suffix: str) -> str:
    """The upload's own base name when it is a plain one, else ``dataset<suffix>``."""
    name = PurePath(str(getattr(file, "name", "") or "").replace("\\", "/")).name
    plain = name and len(name) <= 200 and name.isprintable() and not name.startswith(".")
    if plain and PurePath(name).suffix.lower() == suffix:
        return name
    return f"dataset{suffix}"


def _spool(file: IO[bytes], dest: str, max_bytes: int) -> tuple[int, str]:
    """Copy the upload to ``dest``; return (size, sha256). Refuses more than ``max_bytes``."""
    digest = hashlib.sha256()
    size = 0
    if hasattr(file, "seek"):
        file.seek(0)
    chunks = (
        file.chunks(_CHUNK) if hasattr(file, "chunks") else iter(lambda: file.read(_CHUNK), b"")
    )
    with open(dest, "wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise InvalidDatasetUploadError(
                    f"the dataset file is larger than the limit of {max_bytes // 2**20} MiB"
                )
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def dataset_create(*, owner: User, name: str, task: str, file: IO[bytes]) -> Dataset:
    """Store an uploaded dataset file.

    For the known tasks (``rafiki.constants.TaskType``) the SDK's ``validate_dataset`` checks
    the format first (safe zip extraction, the index csv, columns, every image/audio opens);
    a bad file raises ``InvalidDatasetUploadError`` naming the problem and nothing is stored.
    Other tasks are custom tasks: the file is stored as it is. Records size and sha256.
    """
    from rafiki.model.dataset import InvalidDatasetError, validate_dataset

    name = (name or "").strip()
    task = (task or "").strip()
    if not name:
        raise InvalidDatasetUploadError("a dataset needs a name")
    if not task:
        raise InvalidDatasetUploadError("a dataset needs a task")
    if file is None:
        raise InvalidDatasetUploadError("no dataset file was uploaded")

    suffix = _suffix(file, task)
    tmp_root = settings.DATA_DIR / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix="upload-", dir=tmp_root)
    try:
        # Named as the user named it: the validator's messages then name their own file.
        local_path = os.path.join(tmp_dir, _local_name(file, suffix))
        size, checksum = _spool(file, local_path, settings.MAX_DATASET_MB * 2**20)
        if size == 0:
            raise InvalidDatasetUploadError("the dataset file is empty")
        summary: dict = {}
        if task in TASK_DATASET_TYPE:
            try:
                summary = validate_dataset(task, local_path)
            except InvalidDatasetError as exc:
                message = str(exc).replace(tmp_dir + os.sep, "")
                raise InvalidDatasetUploadError(f"invalid dataset: {message}") from exc

        dataset = Dataset(
            owner=owner, name=name, task=task, size_bytes=size, checksum=checksum, summary=summary
        )
        with open(local_path, "rb") as handle:
            dataset.data_file.save(f"dataset{suffix}", File(handle), save=False)
        try:
            with transaction.atomic():
                dataset.save()
        except BaseException:
            dataset.data_file.delete(save=False)
            raise
        return dataset
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


@transaction.atomic
def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset no train job uses (its file goes after the commit)."""
    from apps.trials.models import TrainJob

    if (
        TrainJob.objects.filter(train_dataset=dataset).exists()
        or TrainJob.objects.filter(val_dataset=dataset).exists()
    ):
        raise InvalidDatasetUploadError(f"dataset {dataset.name!r} is used by a train job")
    file_name = dataset.data_file.name
    storage = dataset.data_file.storage
    dataset.delete()
    transaction.on_commit(lambda: storage.delete(file_name))


def dataset_create_from_url(*, owner: User, name: str, task: str, url: str) -> Dataset:
    """Download a dataset from an http(s) URL (as Rafiki's ``dataset_url``), then store it
    like an upload (``dataset_create``). Refused when DATASET_URL_DOWNLOADS is off; the
    download is capped at MAX_DATASET_MB and DATASET_URL_TIMEOUT_SECONDS."""
    from urllib.parse import urlparse

    import requests

    if not settings.DATASET_URL_DOWNLOADS:
        raise InvalidDatasetUploadError(
            "this server does not download datasets from URLs; upload the file instead"
        )
    parsed = urlparse((url or "").strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidDatasetUploadError(f"dataset URL {url!r} is not an http(s) URL")
    file_name = PurePath(parsed.path).name or "dataset"
    max_bytes = settings.MAX_DATASET_MB * 2**20
    tmp_root = settings.DATA_DIR / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=tmp_root) as spool:
        try:
            with requests.get(
                url, stream=True, timeout=settings.DATASET_URL_TIMEOUT_SECONDS
            ) as response:
                if response.status_code != 200:
                    raise InvalidDatasetUploadError(
                        f"downloading {url} answered HTTP {response.status_code}"
                    )
                size = 0
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise InvalidDatasetUploadError(
                            f"the dataset at {url} is larger than the limit of {max_bytes // 2**20} MiB"
                        )
                    spool.write(chunk)
        except requests.RequestException as exc:
            raise InvalidDatasetUploadError(f"could not download {url}: {exc}") from None
        return dataset_create(owner=owner, name=name, task=task, file=File(spool, name=file_name))
