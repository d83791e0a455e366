import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from apps.datasets.models import Dataset
from apps.datasets.selectors import dataset_list
from apps.datasets.services import InvalidDatasetUploadError, dataset_create
from tests.conftest import upload


def _png(size: tuple[int, int] = (8, 8), color: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (color, color, color)).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _good_images() -> bytes:
    return _zip(
        {
            "images.csv": b"path,class\nimg/0.png,0\nimg/1.png,1\n",
            "img/0.png": _png(color=0),
            "img/1.png": _png(color=255),
        }
    )


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_custom_task_file_is_stored_as_is_with_size_and_checksum(alice) -> None:
    content = b"anything at all\x00\x01"
    dataset = dataset_create(
        owner=alice, name="blob", task="MY_OWN_TASK", file=upload(content, "blob.bin")
    )
    dataset.refresh_from_db()
    assert dataset.size_bytes == len(content)
    assert dataset.checksum == hashlib.sha256(content).hexdigest()
    with dataset.data_file.open("rb") as handle:
        assert handle.read() == content


def test_image_dataset_is_validated_and_summarised(alice) -> None:
    dataset = dataset_create(
        owner=alice,
        name="imgs",
        task="IMAGE_CLASSIFICATION",
        file=upload(_good_images(), "imgs.zip"),
    )
    assert dataset.summary["images"] == 2
    assert dataset.summary["classes"] == 2
    assert dataset.summary["file"] == "imgs.zip"
    assert dataset.data_file.name.endswith(".zip")


def test_tabular_example_dataset_is_accepted(alice, iris_csvs) -> None:
    path = iris_csvs["train"]
    dataset = dataset_create(
        owner=alice, name="iris", task="TABULAR_CLASSIFICATION", file=upload(path, "iris_train.csv")
    )
    assert dataset.summary["rows"] == 90


def _bomb() -> bytes:
    return _zip({"images.csv": b"path,class\n", "big.bin": b"\0" * (300 * 1024 * 1024)})


BAD_IMAGE_ZIPS = {
    "parent path member": (
        lambda: _zip({"images.csv": b"path,class\n", "../evil.png": _png()}),
        "../evil.png",
    ),
    "absolute member": (
        lambda: _zip({"images.csv": b"path,class\n", "/etc/evil.png": _png()}),
        "/etc/evil.png",
    ),
    "zip bomb": (_bomb, "big.bin"),
    "corrupt zip": (lambda: b"PK\x03\x04 this is not really a zip", "zip"),
    "missing images.csv": (lambda: _zip({"img/0.png": _png()}), "images.csv"),
    "wrong columns": (
        lambda: _zip({"images.csv": b"file,label\nimg/0.png,0\n", "img/0.png": _png()}),
        "path",
    ),
    "not an image": (
        lambda: _zip(
            {"images.csv": b"path,class\nimg/0.png,0\n", "img/0.png": b"hello, not a png"}
        ),
        "img/0.png",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_IMAGE_ZIPS))
def test_bad_image_zip_is_refused_naming_the_problem(alice, _private_files, settings, case) -> None:
    build, named = BAD_IMAGE_ZIPS[case]
    with pytest.raises(InvalidDatasetUploadError) as caught:
        dataset_create(
            owner=alice, name="bad", task="IMAGE_CLASSIFICATION", file=upload(build(), "bad.zip")
        )
    message = caught.value.message
    assert named in message, message
    # The user sees their own file name, never the server's temporary path or name.
    assert "bad.zip" in message, message
    assert str(settings.DATA_DIR) not in message
    assert "dataset.zip" not in message
    assert Dataset.objects.count() == 0
    assert _files_under(_private_files) == []
    assert _files_under(settings.DATA_DIR / "tmp") == []


def test_size_limit_refuses_large_upload(alice, settings) -> None:
    settings.MAX_DATASET_MB = 1
    with pytest.raises(InvalidDatasetUploadError, match="larger than the limit of 1 MiB"):
        dataset_create(
            owner=alice, name="big", task="MY_TASK", file=upload(b"x" * (2 * 2**20), "big.bin")
        )
    assert Dataset.objects.count() == 0


def test_datasets_are_private_to_their_owner(alice, bob, make_dataset) -> None:
    mine = make_dataset(name="mine")
    make_dataset(owner=bob, name="bobs")
    assert list(dataset_list(user=alice)) == [mine]
    assert list(dataset_list(user=alice, task="OTHER")) == []
