"""Per-task query checks and ensembling (no Django, no processes)."""

from __future__ import annotations

import base64

import pytest
from numpy.testing import assert_allclose

from rafiki.predictor.ensemble import ensemble_predictions
from rafiki.predictor.queries import InvalidQueryError, validate_queries

IMAGE = [[[0, 0, 0], [255, 255, 255]], [[10, 20, 30], [40, 50, 60]]]  # 2 x 2 x 3


def test_classification_averages_probability_vectors() -> None:
    answers = [[[0.8, 0.2], [0.1, 0.9]], [[0.4, 0.6], [0.3, 0.7]]]
    for task in ("IMAGE_CLASSIFICATION", "TABULAR_CLASSIFICATION"):
        assert_allclose(ensemble_predictions(task, answers), [[0.6, 0.4], [0.2, 0.8]])
    # A trial that never saw the last class answers a shorter vector: that class is 0 there.
    assert_allclose(
        ensemble_predictions("IMAGE_CLASSIFICATION", [[[0.5, 0.5]], [[0.2, 0.2, 0.6]]]),
        [[0.35, 0.35, 0.3]],
    )


def test_regression_averages_and_labels_take_the_majority() -> None:
    assert ensemble_predictions(
        "TABULAR_REGRESSION", [[1.0, 10.0], [2.0, 20.0], [6.0, 0.0]]
    ) == pytest.approx([3.0, 10.0])
    tags = [[[1, 2, 3]], [[1, 5, 4]], [[0, 5, 9]]]
    # Per token: 1 (two votes), 5 (two votes), 3 (a three-way tie goes to the best trial).
    assert ensemble_predictions("POS_TAGGING", tags) == [[1, 5, 3]]
    speech = [["hello world", "yes"], ["hello word", "no"], ["hello word", "maybe"]]
    assert ensemble_predictions("SPEECH_RECOGNITION", speech) == ["hello word", "yes"]


def test_custom_tasks_and_odd_shapes_take_the_best_trial_s_answer() -> None:
    assert ensemble_predictions("MY_TASK", [[{"a": 1}], [{"a": 2}]]) == [{"a": 1}]
    assert ensemble_predictions("TABULAR_REGRESSION", [["n/a"], [2.0]]) == ["n/a"]
    assert ensemble_predictions("IMAGE_CLASSIFICATION", [[[0.5, 0.5]]]) == [[0.5, 0.5]]


@pytest.mark.parametrize(
    ("task", "query", "message"),
    [
        ("IMAGE_CLASSIFICATION", "cat.png", "height x width x 3"),
        ("IMAGE_CLASSIFICATION", [[1, 2], [3]], "not all the same length"),
        ("IMAGE_CLASSIFICATION", [[["a", "b", "c"]]], "must all be numbers"),
        ("IMAGE_CLASSIFICATION", [[[1, 2]]], "got shape (1, 1, 2)"),
        ("POS_TAGGING", "The cat sat", "list of token strings"),
        ("POS_TAGGING", ["The", 3], "list of token strings"),
        ("TABULAR_CLASSIFICATION", [1, 2], "object of feature name"),
        ("TABULAR_REGRESSION", {"age": [1]}, "'age' must be a number or a string"),
        ("TABULAR_REGRESSION", {"age": 3}, "missing feature(s) 'height'"),
        ("SPEECH_RECOGNITION", "not base64!", "not valid base64"),
        ("SPEECH_RECOGNITION", base64.b64encode(b"ID3 an mp3 file").decode(), "not a wav file"),
    ],
)
def test_malformed_queries_are_refused_with_a_reason(
    task: str, query: object, message: str
) -> None:
    with pytest.raises(InvalidQueryError) as e:
        validate_queries(task, [query], features=["age", "height"])
    assert message in str(e.value) and "query 0" in str(e.value)


def test_well_formed_queries_pass() -> None:
    wav = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40)).decode()
    validate_queries("IMAGE_CLASSIFICATION", [IMAGE, [[0, 1], [2, 3]], [[0.5] * 3] * 2])
    validate_queries("POS_TAGGING", [["The", "cat"], []])
    validate_queries(
        "TABULAR_CLASSIFICATION",
        [{"age": 3, "height": 1.5, "city": "x"}],
        features=["age", "height"],
    )
    validate_queries("SPEECH_RECOGNITION", [wav])
    validate_queries("MY_TASK", [None, {"anything": [1, "x"]}])


def test_the_request_itself_must_be_a_bounded_non_empty_list() -> None:
    for queries, message in (
        ({"q": 1}, "must be a list"),
        ([], "must not be empty"),
        ([1, 2, 3], "at most 2"),
    ):
        with pytest.raises(InvalidQueryError, match=message):
            validate_queries("MY_TASK", queries, max_queries=2)
