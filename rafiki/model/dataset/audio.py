"""AUDIO_FILES datasets (task SPEECH_RECOGNITION).

Format: a zip with ``audios.csv`` at its root, columns ``wav_filename`` (a .wav inside the
zip), ``wav_filesize`` (its size in bytes) and ``transcript`` (lowercase a-z, space and
apostrophe). The wav files are 16 kHz.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._table import TableReader, resolve_member_path
from .archive import ArchiveLimits, safe_extract_zip
from .errors import InvalidDatasetError

AUDIOS_CSV = "audios.csv"
AUDIO_COLUMNS = ("wav_filename", "wav_filesize", "transcript")
SAMPLE_RATE = 16_000
_TRANSCRIPT = re.compile(r"[a-z' ]+")


@dataclass(frozen=True)
class AudioRow:
    """One row of ``audios.csv``; ``wav_filename`` is the extracted file's full path."""

    line: int
    wav_filename: str
    wav_filesize: int
    transcript: str


def read_audios_index(root: str, archive: str) -> list[AudioRow]:
    """Parse ``audios.csv`` of an extracted AUDIO_FILES archive (checks paths, sizes and
    transcripts, does not open the wav files)."""
    csv_path = os.path.join(root, AUDIOS_CSV)
    where = f"{archive}: {AUDIOS_CSV}"
    if not os.path.isfile(csv_path):
        raise InvalidDatasetError(f"{archive}: no {AUDIOS_CSV} at the root of the archive")
    rows: list[AudioRow] = []
    with TableReader(csv_path, where) as table:
        table.require(AUDIO_COLUMNS)
        for line, row in table.rows():
            local = resolve_member_path(table, root, "wav_filename", row["wav_filename"])
            size_text = row["wav_filesize"].strip()
            if not size_text.isdigit():
                raise table.error(f"{row['wav_filesize']!r} is not a size in bytes", "wav_filesize")
            transcript = row["transcript"]
            if not _TRANSCRIPT.fullmatch(transcript):
                bad = sorted({c for c in transcript if not _TRANSCRIPT.fullmatch(c)})
                problem = (
                    "the transcript is empty"
                    if not transcript
                    else f"the transcript {transcript!r} has characters other than a-z, space and "
                    f"apostrophe: {''.join(bad)!r}"
                )
                raise table.error(problem, "transcript")
            rows.append(AudioRow(line, local, int(size_text), transcript))
    if not rows:
        raise InvalidDatasetError(f"{where}: has a header but no rows")
    return rows


class AudioFilesDataset:
    """An AUDIO_FILES dataset, for the task SPEECH_RECOGNITION.

    The archive is extracted into ``dataset_dir``, which you own (e.g. a
    ``tempfile.TemporaryDirectory()`` that lives as long as you need the files). ``rows`` is
    the table of ``audios.csv`` as a list of dicts ``{'wav_filename': <full path of the
    extracted wav>, 'wav_filesize': int, 'transcript': str}``; ``size`` is its length. Index
    or iterate over the dataset to get those dicts; ``to_dataframe()`` gives a pandas
    DataFrame with the same columns if pandas is installed.
    """

    def __init__(self, dataset_path: str, dataset_dir: str, *, limits: ArchiveLimits | None = None):
        self.dataset_path = dataset_path
        self.dataset_dir = dataset_dir
        safe_extract_zip(dataset_path, dataset_dir, limits)
        parsed = read_audios_index(os.path.realpath(dataset_dir), os.path.basename(dataset_path))
        self.rows: list[dict[str, Any]] = [
            {
                "wav_filename": r.wav_filename,
                "wav_filesize": r.wav_filesize,
                "transcript": r.transcript,
            }
            for r in parsed
        ]
        self.size: int = len(self.rows)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.rows[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    @property
    def wav_paths(self) -> list[str]:
        return [r["wav_filename"] for r in self.rows]

    @property
    def transcripts(self) -> list[str]:
        return [r["transcript"] for r in self.rows]

    def to_dataframe(self) -> Any:
        """The rows as a pandas DataFrame (requires pandas, which the SDK does not)."""
        import pandas

        return pandas.DataFrame(self.rows, columns=list(AUDIO_COLUMNS))
