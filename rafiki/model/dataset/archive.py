"""Opening zip archives that come from users without trusting them.

A dataset zip is untrusted input: its member names may try to escape the target folder
(``../x``, ``/etc/x``, ``C:\\x``, symbolic links) and its headers may lie about sizes to make
us fill the disk (a "zip bomb"). ``safe_extract_zip`` checks every member before writing
anything, then streams each member to disk with a byte counter, so a header that lies is
caught too.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

from .errors import InvalidDatasetError

GiB = 1024**3
_CHUNK_BYTES = 1024 * 1024
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds applied when extracting an archive.

    ``max_ratio`` is checked per member (uncompressed / compressed size). Members smaller than
    ``ratio_exempt_bytes`` are exempt: a few kilobytes of blank text can legitimately compress
    more than 200:1 and cannot hurt us, whereas a bomb needs volume.
    """

    max_members: int = 100_000
    max_total_bytes: int = 4 * GiB
    max_ratio: float = 200.0
    ratio_exempt_bytes: int = 1024 * 1024


DEFAULT_LIMITS = ArchiveLimits()


def member_parts(name: str) -> list[str]:
    """Split an archive-relative path into its components, or raise ``ValueError`` saying why
    the path is unsafe. Used for member names and for paths that csv files point to."""
    if not name:
        raise ValueError("has an empty name")
    if "\x00" in name:
        raise ValueError("has a NUL character in its name")
    if "\\" in name:
        # Windows tools treat a backslash as a separator, so "..\\x" could escape there.
        raise ValueError("has a backslash in its name")
    if name.startswith("/"):
        raise ValueError("is an absolute path")
    if _DRIVE_LETTER.match(name):
        raise ValueError("starts with a drive letter")
    parts = name.split("/")
    if ".." in parts:
        raise ValueError("contains '..'")
    return [p for p in parts if p not in ("", ".")]


def _open_zip(zip_path: str) -> zipfile.ZipFile:
    name = os.path.basename(zip_path)
    try:
        return zipfile.ZipFile(zip_path)
    except FileNotFoundError:
        raise InvalidDatasetError(f"{name}: the dataset file does not exist") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
        raise InvalidDatasetError(f"{name}: not a valid zip archive ({e})") from None


def _file_type_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == 0 or kind in (stat.S_IFREG, stat.S_IFDIR):
        return None
    if kind == stat.S_IFLNK:
        return "is a symbolic link"
    return "is not a regular file or folder"


def _plan(
    zf: zipfile.ZipFile, archive: str, limits: ArchiveLimits
) -> list[tuple[zipfile.ZipInfo, list[str]]]:
    """Check every member before anything is written; return (member, path parts) pairs."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise InvalidDatasetError(
            f"{archive}: has {len(infos)} members, more than the limit of {limits.max_members}"
        )
    planned: list[tuple[zipfile.ZipInfo, list[str]]] = []
    seen: set[str] = set()
    declared_total = 0
    for info in infos:
        member = info.filename
        try:
            parts = member_parts(member)
        except ValueError as e:
            raise InvalidDatasetError(f"{archive}: member {member!r} {e}") from None
        problem = _file_type_problem(info)
        if problem:
            raise InvalidDatasetError(f"{archive}: member {member!r} {problem}")
        if info.flag_bits & 0x1:
            raise InvalidDatasetError(f"{archive}: member {member!r} is encrypted")
        key = "/".join(parts)
        if key in seen and not info.is_dir():
            # A second copy could silently replace a file we already checked (e.g. images.csv).
            raise InvalidDatasetError(f"{archive}: member {member!r} appears more than once")
        seen.add(key)
        declared_total += info.file_size
        if declared_total > limits.max_total_bytes:
            raise InvalidDatasetError(
                f"{archive}: members up to {member!r} declare {declared_total} bytes uncompressed, "
                f"more than the limit of {limits.max_total_bytes}"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_exempt_bytes and ratio > limits.max_ratio:
            raise InvalidDatasetError(
                f"{archive}: member {member!r} has a compression ratio of {ratio:.0f}:1, more than "
                f"the limit of {limits.max_ratio:.0f}:1 (possible zip bomb)"
            )
        if parts:
            planned.append((info, parts))
    return planned


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def safe_extract_zip(
    zip_path: str | os.PathLike[str],
    dest_dir: str | os.PathLike[str],
    limits: ArchiveLimits | None = None,
    *,
    max_members: int | None = None,
    max_total_bytes: int | None = None,
    max_ratio: float | None = None,
) -> list[str]:
    """Extract a zip archive into ``dest_dir`` without letting it escape or overflow.

    Every member is checked before anything is written: no absolute names, drive letters,
    backslashes or ``..``; no symbolic links or special files; no encrypted or duplicate
    members; at most ``max_members`` members; declared uncompressed sizes summing to at most
    ``max_total_bytes``; no member over 1 MiB compressed more than ``max_ratio``:1. Members are
    then streamed to disk while counting bytes, so a member bigger than its header says is
    stopped. Keyword arguments override the matching fields of ``limits``.

    Returns the paths of the extracted files (not folders), in archive order. Raises
    ``InvalidDatasetError`` naming the archive and member. After an error ``dest_dir`` may
    hold a partial extraction: extract into a fresh temporary folder (``extracted_zip`` does).
    """
    limits = limits or DEFAULT_LIMITS
    overrides = {
        k: v
        for k, v in (
            ("max_members", max_members),
            ("max_total_bytes", max_total_bytes),
            ("max_ratio", max_ratio),
        )
        if v is not None
    }
    limits = replace(limits, **overrides)
    zip_path = os.fspath(zip_path)
    archive = os.path.basename(zip_path)
    os.makedirs(dest_dir, exist_ok=True)
    root = os.path.realpath(dest_dir)

    with _open_zip(zip_path) as zf:
        planned = _plan(zf, archive, limits)
        extracted: list[str] = []
        total_written = 0
        for info, parts in planned:
            member = info.filename
            target = os.path.join(root, *parts)
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            parent = os.path.dirname(target)
            try:
                os.makedirs(parent, exist_ok=True)
            except OSError as e:
                raise InvalidDatasetError(
                    f"{archive}: cannot create the folder of member {member!r} ({e})"
                ) from None
            # A folder that already existed in dest_dir could be a symlink pointing elsewhere.
            if not _inside(root, os.path.realpath(parent)):
                raise InvalidDatasetError(
                    f"{archive}: member {member!r} would be written outside the target folder"
                )
            written = 0
            try:
                flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
                fd = os.open(target, flags, 0o644)
                with zf.open(info) as src, os.fdopen(fd, "wb") as dst:
                    while chunk := src.read(_CHUNK_BYTES):
                        written += len(chunk)
                        total_written += len(chunk)
                        # Don't trust the headers: count what actually comes out.
                        if written > info.file_size:
                            raise InvalidDatasetError(
                                f"{archive}: member {member!r} holds more data than the "
                                f"{info.file_size} bytes its header declares"
                            )
                        if total_written > limits.max_total_bytes:
                            raise InvalidDatasetError(
                                f"{archive}: extracting member {member!r} exceeds the limit of "
                                f"{limits.max_total_bytes} bytes"
                            )
                        dst.write(chunk)
                if written != info.file_size:
                    raise InvalidDatasetError(
                        f"{archive}: member {member!r} is corrupt or its header misstates its size "
                        f"(declares {info.file_size} bytes, holds {written})"
                    )
            except InvalidDatasetError:
                raise
            except (zipfile.BadZipFile, zlib.error, EOFError) as e:
                raise InvalidDatasetError(
                    f"{archive}: member {member!r} is corrupt or its header misstates its size ({e})"
                ) from None
            except (NotImplementedError, RuntimeError) as e:
                raise InvalidDatasetError(
                    f"{archive}: member {member!r} cannot be read ({e})"
                ) from None
            except OSError as e:
                raise InvalidDatasetError(
                    f"{archive}: member {member!r} cannot be written ({e})"
                ) from None
            extracted.append(target)
    return extracted


@contextlib.contextmanager
def extracted_zip(
    zip_path: str | os.PathLike[str], limits: ArchiveLimits | None = None
) -> Iterator[str]:
    """Extract ``zip_path`` safely into a new temporary folder, yield the folder, and remove
    it afterwards whatever happens."""
    tmp = tempfile.mkdtemp(prefix="rafiki-dataset-")
    try:
        safe_extract_zip(zip_path, tmp, limits)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
