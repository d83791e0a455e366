"""Reading the csv/tsv index files of datasets with errors that name the line and column."""

from __future__ import annotations

import codecs
import csv
import os
import re
from collections.abc import Iterator, Sequence
from typing import IO, Self

from .archive import member_parts
from .errors import InvalidDatasetError

_MAX_LINE_BYTES = 16 * 1024 * 1024
_NON_NEGATIVE_INT = re.compile(r"\s*\+?[0-9]+\s*")


class TableReader:
    """Reads a delimited text file with a header row.

    ``where`` is how the file is named in messages, e.g. ``"digits.zip: images.csv"``. Line
    numbers are 1-based physical lines, the header being line 1, so that a user can open the
    file in an editor and go to the line.
    """

    def __init__(
        self, path: str, where: str, *, delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL
    ):
        self.path = path
        self.where = where
        self._delimiter = delimiter
        self._quoting = quoting
        self._file: IO[bytes] | None = None
        self._reader: csv._reader | None = None
        self.header: list[str] = []

    def __enter__(self) -> Self:
        try:
            self._file = open(self.path, "rb")
        except FileNotFoundError:
            raise InvalidDatasetError(f"{self.where}: file not found") from None
        self._reader = csv.reader(
            self._text_lines(), delimiter=self._delimiter, quoting=self._quoting
        )
        first = self._next()
        if first is None:
            raise InvalidDatasetError(f"{self.where}: the file is empty (expected a header row)")
        self.header = [name.strip() for name in first]
        for i, name in enumerate(self.header):
            if not name:
                raise InvalidDatasetError(f"{self.where}: line 1: column {i + 1} has an empty name")
            if name in self.header[:i]:
                raise InvalidDatasetError(f"{self.where}: line 1: column {name!r} appears twice")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def _text_lines(self) -> Iterator[str]:
        """The file's lines decoded as UTF-8, one at a time, so that an undecodable byte is
        reported at its own line (a text-mode file decodes whole buffers ahead of the csv
        reader). A newline byte never occurs inside a UTF-8 sequence, so splitting first is safe."""
        assert self._file is not None
        line = 1
        # Bounded reads: a binary file without newlines must not be read as one huge line.
        while raw := self._file.readline(_MAX_LINE_BYTES + 1):
            if len(raw) > _MAX_LINE_BYTES:
                raise InvalidDatasetError(
                    f"{self.where}: line {line}: longer than {_MAX_LINE_BYTES} bytes"
                )
            if line == 1 and raw.startswith(codecs.BOM_UTF8):
                # Spreadsheet programs often start a csv with a byte order mark.
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidDatasetError(
                    f"{self.where}: line {line}: the file is not UTF-8 text"
                ) from None
            line += 1

    @property
    def line(self) -> int:
        return self._reader.line_num if self._reader is not None else 0

    def _next(self) -> list[str] | None:
        assert self._reader is not None
        try:
            return next(self._reader)
        except StopIteration:
            return None
        except csv.Error as e:
            raise InvalidDatasetError(f"{self.where}: line {self.line}: {e}") from None

    def require(self, columns: Sequence[str]) -> None:
        """Raise unless every name in ``columns`` is in the header."""
        for column in columns:
            if column not in self.header:
                raise InvalidDatasetError(
                    f"{self.where}: missing column {column!r} (the header has: {', '.join(self.header)})"
                )

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Yield ``(line number, {column: value})`` for each non-blank row."""
        while (fields := self._next()) is not None:
            if not fields or fields == [""]:
                continue
            if len(fields) != len(self.header):
                raise self.error(
                    f"has {len(fields)} fields but the header has {len(self.header)} columns"
                )
            yield self.line, dict(zip(self.header, fields))

    def error(
        self, problem: str, column: str | None = None, line: int | None = None
    ) -> InvalidDatasetError:
        at = f"line {self.line if line is None else line}"
        if column is not None:
            at += f", column {column!r}"
        return InvalidDatasetError(f"{self.where}: {at}: {problem}")


def parse_class(reader: TableReader, column: str, value: str) -> int:
    """A class number: a non-negative integer written in decimal."""
    if not _NON_NEGATIVE_INT.fullmatch(value):
        if value.strip().startswith("-") and value.strip()[1:].isdigit():
            raise reader.error(
                f"class {value.strip()} is negative; classes are numbered 0..k-1", column
            )
        raise reader.error(f"{value!r} is not an integer class number 0..k-1", column)
    return int(value)


def resolve_member_path(reader: TableReader, root: str, column: str, value: str) -> str:
    """The local path of the archive member a csv cell points to, checked to stay in ``root``
    and to exist."""
    try:
        parts = member_parts(value.strip())
    except ValueError as e:
        raise reader.error(f"the path {value!r} {e}", column) from None
    if not parts:
        raise reader.error("the path is empty", column)
    local = os.path.join(root, *parts)
    if not os.path.isfile(local):
        raise reader.error(f"{value!r} is not a file in the archive", column)
    return local
