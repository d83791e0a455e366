"""The one error every dataset loader and validator raises."""

from __future__ import annotations


class InvalidDatasetError(ValueError):
    """A dataset file is malformed or unsafe. The message names the file and, where it
    applies, the archive member, the csv line (1-based, the header is line 1) or the column."""
