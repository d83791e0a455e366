"""Query formats per task (RAFIKI_COMPAT.md section 3), checked before a query reaches a
model so that a malformed query is the caller's clear 400, not a model's stack trace."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from typing import Any

from rafiki.constants import TaskType

#: Side of the largest image query accepted, and its largest number of values.
MAX_IMAGE_SIDE = 4096
MAX_IMAGE_VALUES = 4096 * 4096 * 4
#: Tokens of the longest POS_TAGGING query.
MAX_TOKENS = 100_000


class InvalidQueryError(ValueError):
    """A query does not have the format of its task; the message names the query."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _image(i: int, query: Any) -> None:
    import numpy as np

    if not isinstance(query, list) or not query:
        raise InvalidQueryError(
            f"query {i}: an image query is a height x width x 3 array of pixel values "
            f"(nested lists), got {type(query).__name__}"
        )
    try:
        array = np.asarray(query)
    except (ValueError, TypeError):
        raise InvalidQueryError(
            f"query {i}: the image's rows are not all the same length"
        ) from None
    if array.dtype == object or array.dtype.kind not in "iuf":
        raise InvalidQueryError(f"query {i}: an image's values must all be numbers")
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise InvalidQueryError(
            f"query {i}: an image must be height x width x 3 (or height x width), "
            f"got shape {tuple(array.shape)}"
        )
    if max(array.shape[:2]) > MAX_IMAGE_SIDE or array.size > MAX_IMAGE_VALUES or 0 in array.shape:
        raise InvalidQueryError(
            f"query {i}: an image of shape {tuple(array.shape)} is out of bounds"
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InvalidQueryError(f"query {i}: an image's values must be finite numbers")


def _tokens(i: int, query: Any) -> None:
    if not isinstance(query, list) or not all(isinstance(t, str) for t in query):
        raise InvalidQueryError(f"query {i}: a POS_TAGGING query is a list of token strings")
    if len(query) > MAX_TOKENS:
        raise InvalidQueryError(f"query {i}: more than {MAX_TOKENS} tokens")


def _row(i: int, query: Any, features: Sequence[str] | None) -> None:
    if not isinstance(query, dict):
        raise InvalidQueryError(
            f"query {i}: a tabular query is an object of feature name -> value, "
            f"got {type(query).__name__}"
        )
    for name, value in query.items():
        if not (value is None or isinstance(value, str) or _is_number(value)):
            raise InvalidQueryError(f"query {i}: feature {name!r} must be a number or a string")
    if features:
        missing = [f for f in features if f not in query]
        if missing:
            raise InvalidQueryError(
                f"query {i}: missing feature(s) {', '.join(map(repr, missing))}"
            )


def _audio(i: int, query: Any) -> None:
    if not isinstance(query, str):
        raise InvalidQueryError(
            f"query {i}: a SPEECH_RECOGNITION query is a base64 string of a wav file"
        )
    try:
        head = base64.b64decode(query[:64], validate=True)
        base64.b64decode(query, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidQueryError(f"query {i}: not valid base64") from None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise InvalidQueryError(f"query {i}: the decoded bytes are not a wav file")


def validate_queries(
    task: str, queries: Any, *, features: Sequence[str] | None = None, max_queries: int = 1000
) -> list[Any]:
    """``queries`` if each has the format of ``task``; raises ``InvalidQueryError``.
    Custom tasks accept any JSON value. ``features``: the tabular columns a query must have."""
    if not isinstance(queries, list):
        raise InvalidQueryError("queries must be a list")
    if not queries:
        raise InvalidQueryError("queries must not be empty")
    if len(queries) > max_queries:
        raise InvalidQueryError(f"at most {max_queries} queries per request, got {len(queries)}")
    for i, query in enumerate(queries):
        if task == TaskType.IMAGE_CLASSIFICATION:
            _image(i, query)
        elif task == TaskType.POS_TAGGING:
            _tokens(i, query)
        elif task in (TaskType.TABULAR_CLASSIFICATION, TaskType.TABULAR_REGRESSION):
            _row(i, query, features)
        elif task == TaskType.SPEECH_RECOGNITION:
            _audio(i, query)
    return queries
