"""TABULAR datasets (tasks TABULAR_CLASSIFICATION and TABULAR_REGRESSION).

Format: a csv file with a header row. By default the features are the first N-1 columns and
the target the last; train args ``features`` and ``target`` name other columns. An empty cell
is a missing value (NaN in numeric columns).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._table import TableReader
from .errors import InvalidDatasetError


def _as_number(value: str) -> float | None:
    """The float a cell holds, NaN for an empty cell, None if it is not a number."""
    text = value.strip()
    if text == "":
        return math.nan
    try:
        return float(text)
    except ValueError:
        return None


@dataclass
class ColumnStats:
    numeric: bool = True
    missing: int = 0
    first_non_numeric: tuple[int, str] | None = None  # (line, value)
    values: list = field(default_factory=list)


def read_table(path: str, *, keep_values: bool) -> tuple[list[str], dict[str, ColumnStats], int]:
    """Read a TABULAR csv: returns (columns, stats per column, row count). Values are kept
    (as floats where the column is numeric, else as str) only when ``keep_values``."""
    where = os.path.basename(path)
    with TableReader(path, where) as table:
        columns = list(table.header)
        if len(columns) < 2:
            raise InvalidDatasetError(
                f"{where}: line 1: needs at least two columns (features and a target)"
            )
        stats = {c: ColumnStats() for c in columns}
        raw: dict[str, list[str]] = {c: [] for c in columns}
        rows = 0
        for line, row in table.rows():
            rows += 1
            for column, value in row.items():
                column_stats = stats[column]
                if value.strip() == "":
                    column_stats.missing += 1
                elif column_stats.numeric and _as_number(value) is None:
                    column_stats.numeric = False
                    column_stats.first_non_numeric = (line, value)
                if keep_values:
                    raw[column].append(value)
    if rows == 0:
        raise InvalidDatasetError(f"{where}: has a header but no rows")
    if keep_values:
        for column in columns:
            if stats[column].numeric:
                stats[column].values = [_as_number(v) for v in raw[column]]
            else:
                stats[column].values = [v.strip() for v in raw[column]]
    return columns, stats, rows


class TabularDataset:
    """A TABULAR dataset loaded into memory.

    ``columns`` are all the csv's columns, ``features`` the feature columns used and
    ``target`` the target column (defaults: the last column, and every other column). ``X`` is an
    (N, len(features)) float64 array when every feature is numeric (missing cells are NaN),
    otherwise an object array holding floats for numeric columns and str for the others.
    ``y`` is an int64 array when the target holds only whole numbers (class numbers), a
    float64 array when it is numeric, otherwise an array of str. ``size`` is N. Indexing
    gives ``(X[i], y[i])``; ``feature_dicts()`` gives each row as the dict a query uses.
    """

    def __init__(
        self, dataset_path: str, features: Sequence[str] | None = None, target: str | None = None
    ):
        self.dataset_path = dataset_path
        where = os.path.basename(dataset_path)
        columns, stats, rows = read_table(dataset_path, keep_values=True)
        self.columns: list[str] = columns
        self.target: str = columns[-1] if target is None else target
        # With only a target given, every other column is a feature.
        self.features: list[str] = (
            [c for c in columns if c != self.target] if features is None else list(features)
        )
        for column in [*self.features, self.target]:
            if column not in stats:
                raise InvalidDatasetError(
                    f"{where}: missing column {column!r} (the header has: {', '.join(columns)})"
                )
        if self.target in self.features:
            raise ValueError(f"column {self.target!r} is both a feature and the target")
        self.numeric_columns: list[str] = [c for c in columns if stats[c].numeric]
        if all(stats[c].numeric for c in self.features):
            self.X: np.ndarray = np.array(
                [stats[c].values for c in self.features], dtype=np.float64
            ).T.reshape(rows, -1)
        else:
            self.X = np.empty((rows, len(self.features)), dtype=object)
            for j, column in enumerate(self.features):
                self.X[:, j] = stats[column].values
        target_values = stats[self.target].values
        if stats[self.target].numeric:
            y = np.asarray(target_values, dtype=np.float64)
            whole = np.all(np.isfinite(y)) and np.all(y == np.round(y))
            self.y: np.ndarray = y.astype(np.int64) if whole else y
        else:
            self.y = np.asarray(target_values, dtype=str)
        self.size: int = rows

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[np.ndarray, object]:
        return self.X[index], self.y[index]

    def __iter__(self) -> Iterator[tuple[np.ndarray, object]]:
        return iter(zip(self.X, self.y))

    def feature_dicts(self) -> list[dict[str, object]]:
        """Each row's features as ``{column: value}``, the shape of a TABULAR query."""
        return [
            dict(zip(self.features, (v.item() if hasattr(v, "item") else v for v in row)))
            for row in self.X
        ]
