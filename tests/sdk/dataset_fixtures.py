"""Builders of dataset files, good and malformed, for the dataset tests.

Imported by test_datasets.py and test_archive.py; importing a ``*_fixture`` function makes
its fixture (named without the suffix) available in that module.
"""

from __future__ import annotations

import importlib.util
import io
import struct
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "datasets"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def load_example(name: str) -> ModuleType:
    """Import examples/datasets/<name>.py (the examples folder is not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"example_datasets_{name}", EXAMPLES_DIR / f"{name}.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zip_bytes(files: dict[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE), data)
    return buffer.getvalue()


def write_zip(path: Path, files: dict[str, bytes | str]) -> Path:
    path.write_bytes(zip_bytes(files))
    return path


def png(
    size: tuple[int, int] = (8, 8), color: int | tuple[int, ...] = 0, mode: str = "RGB"
) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def image_zip(path: Path, csv_text: str, images: dict[str, bytes]) -> Path:
    return write_zip(path, {"images.csv": csv_text, **images})


def set_declared_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the uncompressed size a zip's local and central headers declare for ``member``,
    leaving the data alone: a header that lies."""
    out = bytearray(data)
    name = member.encode()
    patched = 0
    # Local file header: signature, then the uncompressed size at offset 22, name at 30.
    # Central directory header: uncompressed size at offset 24, name at 46.
    for signature, size_at, name_len_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),
        (b"PK\x01\x02", 24, 28, 46),
    ):
        start = 0
        while (start := out.find(signature, start)) != -1:
            (name_len,) = struct.unpack_from("<H", out, start + name_len_at)
            if out[start + name_at : start + name_at + name_len] == name:
                struct.pack_into("<I", out, start + size_at, size)
                patched += 1
            start += 4
    assert patched == 2, "expected one local and one central header"
    return bytes(out)


@pytest.fixture(scope="session", name="examples")
def examples_fixture(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Every example dataset, built once: {'digits': {'train': path, ...}, 'iris': ..., ...}."""
    out = str(tmp_path_factory.mktemp("example-datasets"))
    tabular = load_example("tabular")
    return {
        "digits": load_example("image_digits").build_digits(out),
        "iris": tabular.build_iris(out),
        "diabetes": tabular.build_diabetes(out),
        "pos": load_example("pos_corpus").build_pos_corpus(out),
        "audio": load_example("audio").build_audio(out),
    }


@pytest.fixture(scope="session", name="zip_bomb")
def zip_bomb_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A zip bomb: a member of 256 MiB of zeros deflated to about 260 KB (ratio ~1000:1)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("images.csv", "path,class\n")
        with zf.open("zeros.bin", "w") as member:
            chunk = bytes(1024 * 1024)
            for _ in range(256):
                member.write(chunk)
    return path
