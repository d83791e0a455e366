"""Combining the predictions of several trials for the same queries (RAFIKI_COMPAT.md
section 5): mean of probability vectors for classification, mean for regression, per-token
majority for POS tagging, most common transcript for speech. The answers come best trial
first, and every tie goes to the better trial; a custom task takes the best trial's answer.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rafiki.constants import TaskType


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _mean_vectors(values: list[Any]) -> Any:
    if not all(isinstance(v, list) and v and all(_is_number(x) for x in v) for v in values):
        return values[0]
    # A model that never saw the last classes may return a shorter vector: those are 0.
    width = max(len(v) for v in values)
    return [sum(v[j] if j < len(v) else 0.0 for v in values) / len(values) for j in range(width)]


def _mean(values: list[Any]) -> Any:
    if not all(_is_number(v) for v in values):
        return values[0]
    return sum(values) / len(values)


def _majority(values: list[Any]) -> Any:
    # Counter keeps first-seen order among equal counts: a tie goes to the better trial.
    try:
        return Counter(values).most_common(1)[0][0]
    except TypeError:  # unhashable answers (a custom shape): the best trial's
        return values[0]


def _token_majority(values: list[Any]) -> Any:
    if not all(isinstance(v, list) for v in values) or len({len(v) for v in values}) != 1:
        return values[0]
    return [_majority([v[j] for v in values]) for j in range(len(values[0]))]


_COMBINE = {
    TaskType.IMAGE_CLASSIFICATION: _mean_vectors,
    TaskType.TABULAR_CLASSIFICATION: _mean_vectors,
    TaskType.TABULAR_REGRESSION: _mean,
    TaskType.POS_TAGGING: _token_majority,
    TaskType.SPEECH_RECOGNITION: _majority,
}


def ensemble_predictions(task: str, answers: Sequence[Sequence[Any]]) -> list[Any]:
    """One prediction per query from ``answers`` (one list of predictions per trial, best
    trial first, all of the same length). Answers of an unexpected shape for the task fall
    back to the best trial's."""
    if not answers:
        raise ValueError("no answers to ensemble")
    if len(answers) == 1:
        return list(answers[0])
    count = len(answers[0])
    if any(len(a) != count for a in answers):
        raise ValueError("the trials answered different numbers of predictions")
    combine = _COMBINE.get(task, lambda values: values[0])
    return [combine([a[i] for a in answers]) for i in range(count)]
