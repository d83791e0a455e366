"""safe_extract_zip: what a hostile or broken dataset archive cannot do to the platform."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
from dataset_fixtures import (  # noqa: F401
    ZIP_DATE,
    set_declared_size,
    write_zip,
    zip_bomb_fixture,
    zip_bytes,
)

from rafiki.model.dataset import ArchiveLimits, InvalidDatasetError, extracted_zip, safe_extract_zip


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    # A nested target, so that a member escaping by one level lands in tmp_path where we can see it.
    return tmp_path / "box" / "out"


def files_under(path: Path) -> list[str]:
    return (
        sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
        if path.exists()
        else []
    )


def test_extracts_files_and_folders_and_returns_their_paths(tmp_path: Path, dest: Path) -> None:
    archive = write_zip(
        tmp_path / "ok.zip", {"images.csv": "path,class\n", "a/b/c.txt": b"hello", "a/": b""}
    )

    paths = safe_extract_zip(archive, dest)

    assert sorted(paths) == sorted(
        [str(dest.resolve() / "images.csv"), str(dest.resolve() / "a/b/c.txt")]
    )
    assert (dest / "a/b/c.txt").read_bytes() == b"hello"


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("../escaped.txt", "contains '..'"),
        ("a/../../escaped.txt", "contains '..'"),
        ("/tmp/escaped.txt", "is an absolute path"),
        ("..\\escaped.txt", "backslash"),
        ("C:/escaped.txt", "drive letter"),
    ],
)
def test_rejects_member_names_that_escape(
    tmp_path: Path, dest: Path, member: str, reason: str
) -> None:
    archive = write_zip(tmp_path / "evil.zip", {"fine.txt": b"x", member: b"pwned"})

    with pytest.raises(InvalidDatasetError) as error:
        safe_extract_zip(archive, dest)

    message = str(error.value)
    assert "evil.zip" in message and repr(member) in message and reason in message
    # Checked before writing: not even the harmless member was extracted.
    assert files_under(tmp_path / "box") == []
    assert not (tmp_path / "escaped.txt").exists()


def test_rejects_symlink_member(tmp_path: Path, dest: Path) -> None:
    link = zipfile.ZipInfo("images", date_time=ZIP_DATE)
    link.create_system = 3  # Unix: the high 16 bits of external_attr are st_mode
    link.external_attr = (0o120777) << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(link, "/etc")
    (tmp_path / "link.zip").write_bytes(buffer.getvalue())

    with pytest.raises(InvalidDatasetError, match=r"link\.zip: member 'images' is a symbolic link"):
        safe_extract_zip(tmp_path / "link.zip", dest)
    assert files_under(tmp_path / "box") == []


def test_rejects_zip_bomb_by_compression_ratio_before_writing(zip_bomb: Path, dest: Path) -> None:
    with pytest.raises(InvalidDatasetError) as error:
        safe_extract_zip(zip_bomb, dest)

    assert "member 'zeros.bin'" in str(error.value) and "compression ratio" in str(error.value)
    assert files_under(dest) == []


def test_rejects_archive_declaring_more_than_the_total_limit(zip_bomb: Path, dest: Path) -> None:
    with pytest.raises(
        InvalidDatasetError,
        match=r"bomb\.zip: .*'zeros\.bin' declare \d+ bytes .* limit of 100000000",
    ):
        safe_extract_zip(zip_bomb, dest, max_ratio=10_000, max_total_bytes=100_000_000)
    assert files_under(dest) == []


def test_small_highly_compressible_member_is_accepted(tmp_path: Path, dest: Path) -> None:
    # 500 KB of blank text compresses ~1000:1 but cannot hurt anyone: blank images look like this.
    archive = write_zip(tmp_path / "blank.zip", {"blank.txt": b" " * 500_000})

    safe_extract_zip(archive, dest)

    assert (dest / "blank.txt").stat().st_size == 500_000


def test_member_bigger_than_its_header_declares_is_stopped(tmp_path: Path, dest: Path) -> None:
    honest = zip_bytes({"images.csv": "path,class\n", "data.bin": bytes(300_000)})
    (tmp_path / "liar.zip").write_bytes(set_declared_size(honest, "data.bin", 1000))

    with pytest.raises(InvalidDatasetError) as error:
        safe_extract_zip(tmp_path / "liar.zip", dest)

    assert "liar.zip: member 'data.bin'" in str(error.value)
    assert not (dest / "data.bin").exists() or (dest / "data.bin").stat().st_size <= 1000


def test_member_smaller_than_its_header_declares_is_rejected(tmp_path: Path, dest: Path) -> None:
    honest = zip_bytes({"data.bin": b"0123456789" * 10}, compression=zipfile.ZIP_STORED)
    (tmp_path / "liar.zip").write_bytes(set_declared_size(honest, "data.bin", 1_000_000))

    with pytest.raises(
        InvalidDatasetError,
        match=r"liar\.zip: member 'data\.bin' is corrupt or its header misstates",
    ):
        safe_extract_zip(tmp_path / "liar.zip", dest)


def test_rejects_too_many_members(tmp_path: Path, dest: Path) -> None:
    archive = write_zip(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(6)})

    with pytest.raises(
        InvalidDatasetError, match=r"many\.zip: has 6 members, more than the limit of 5"
    ):
        safe_extract_zip(archive, dest, ArchiveLimits(max_members=5))
    safe_extract_zip(archive, dest, max_members=6)
    assert len(files_under(dest)) == 6


def test_rejects_duplicate_member(tmp_path: Path, dest: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("images.csv", "path,class\na.png,0\n")
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("images.csv", "path,class\n/etc/passwd,0\n")
    (tmp_path / "dup.zip").write_bytes(buffer.getvalue())

    with pytest.raises(
        InvalidDatasetError, match=r"dup\.zip: member 'images\.csv' appears more than once"
    ):
        safe_extract_zip(tmp_path / "dup.zip", dest)


@pytest.mark.parametrize(
    "content",
    [b"this is not a zip file at all", b"", zip_bytes({"a.txt": b"x" * 1000})[:60]],
    ids=["text", "empty", "truncated"],
)
def test_corrupt_archive_is_a_clear_error(tmp_path: Path, dest: Path, content: bytes) -> None:
    (tmp_path / "broken.zip").write_bytes(content)

    with pytest.raises(InvalidDatasetError, match=r"broken\.zip: not a valid zip archive"):
        safe_extract_zip(tmp_path / "broken.zip", dest)


def test_corrupt_member_data_names_the_member(tmp_path: Path, dest: Path) -> None:
    data = bytearray(zip_bytes({"data.txt": b"some text that deflates " * 100}))
    start = data.find(b"data.txt") + len(b"data.txt")
    data[start : start + 20] = bytes(20)  # overwrite the start of the deflated data
    (tmp_path / "garbled.zip").write_bytes(bytes(data))

    with pytest.raises(InvalidDatasetError, match=r"garbled\.zip: member 'data\.txt' is corrupt"):
        safe_extract_zip(tmp_path / "garbled.zip", dest)


def test_missing_file_is_a_clear_error(tmp_path: Path, dest: Path) -> None:
    with pytest.raises(InvalidDatasetError, match=r"nope\.zip: the dataset file does not exist"):
        safe_extract_zip(tmp_path / "nope.zip", dest)


def test_extracted_zip_removes_its_folder_on_success_and_on_error(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "ok.zip", {"a.txt": b"x"})

    with extracted_zip(archive) as root:
        assert os.listdir(root) == ["a.txt"]
    assert not os.path.exists(root)

    with pytest.raises(RuntimeError), extracted_zip(archive) as root:
        raise RuntimeError("model code failed")
    assert not os.path.exists(root)


def test_extracted_zip_leaves_nothing_behind_when_the_archive_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    archive = write_zip(tmp_path / "evil.zip", {"../x": b"x"})

    with pytest.raises(InvalidDatasetError), extracted_zip(archive):
        pass
    assert list(temp_root.iterdir()) == []
