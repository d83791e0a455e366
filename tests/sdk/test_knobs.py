import json

import pytest

from rafiki.model import (
    ArchKnob,
    CategoricalKnob,
    CategoricalValue,
    FixedKnob,
    FloatKnob,
    IntegerKnob,
    KnobValue,
    PolicyKnob,
)
from rafiki.model.knob import (
    InvalidKnobConfigError,
    knob_config_from_json,
    knob_config_to_json,
    validate_knob_config,
    validate_knob_values,
)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: IntegerKnob(5, 1), "value_min (5) is greater than value_max (1)"),
        (lambda: FloatKnob(0.0, 1.0, is_exp=True), "is_exp=True needs value_min > 0"),
        (lambda: IntegerKnob(-1, 4, is_exp=True), "is_exp=True needs value_min > 0"),
        (lambda: IntegerKnob(1.5, 4), "value_min must be a finite int"),
        (lambda: FloatKnob("a", 4), "value_min must be a finite float"),
        (lambda: CategoricalKnob([]), "non-empty list"),
        (lambda: CategoricalKnob(["relu", 3]), "mixes value types"),
        (lambda: CategoricalKnob([True, "x"]), "mixes value types"),
        (lambda: CategoricalKnob([[1, 2]]), "must be str, int, float or bool"),
        (lambda: PolicyKnob("FAST"), "is not one of SHARE_PARAMS"),
        (lambda: ArchKnob([]), "non-empty list of items"),
        (lambda: ArchKnob([[1, 2], []]), "item 1 must be a non-empty list"),
        (lambda: ArchKnob([1, 2]), "item 0 must be a non-empty list"),
        (lambda: ArchKnob([["a", 1]]), "ArchKnob item 0 mixes value types"),
    ],
)
def test_bad_knob_arguments_name_the_problem(make, message):
    with pytest.raises(
        InvalidKnobConfigError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        make()


def test_categorical_value_is_knob_value():
    assert CategoricalValue is KnobValue
    knob = CategoricalKnob([KnobValue("a"), "b"])
    assert [v.value for v in knob.values] == ["a", "b"]
    assert knob.value_type is str


def test_config_round_trips_through_json_exactly():
    l0, l1 = KnobValue(0), KnobValue(1)
    ops = [KnobValue("conv3x3"), KnobValue("max_pool")]
    config = {
        "depth": IntegerKnob(1, 64, is_exp=True),
        "lr": FloatKnob(1e-4, 0.5, is_exp=True),
        "act": CategoricalKnob(["relu", "tanh"]),
        "flag": CategoricalKnob([True, False]),
        "batch": FixedKnob(32),
        "early": PolicyKnob("EARLY_STOP"),
        "arch": ArchKnob([[l0], ops, [l0, l1], ops]),
    }
    text = json.dumps(knob_config_to_json(config))
    back = knob_config_from_json(json.loads(text))
    assert back == config
    assert type(back["depth"].value_min) is int and back["depth"].is_exp is True
    assert back["flag"].value_type is bool
    # A KnobValue reused at several positions comes back as one shared instance.
    items = back["arch"].items
    assert items[0][0] is items[2][0]
    assert items[1][0] is items[3][0]
    assert items[2][0] is not items[2][1]


def test_validate_knob_config_rejects_non_knobs():
    with pytest.raises(InvalidKnobConfigError, match="knob 'lr' must be a knob"):
        validate_knob_config({"lr": 0.1})
    with pytest.raises(InvalidKnobConfigError, match="must return a dict"):
        validate_knob_config([IntegerKnob(1, 2)])


def test_knob_values_are_checked_and_converted():
    config = {
        "depth": IntegerKnob(1, 10),
        "lr": FloatKnob(0.01, 1.0),
        "act": CategoricalKnob(["relu", "tanh"]),
        "batch": FixedKnob(32),
        "early": PolicyKnob("EARLY_STOP"),
    }
    typed = validate_knob_values(config, {"depth": "4", "lr": "0.5", "early": "true"}, partial=True)
    assert typed == {"depth": 4, "lr": 0.5, "early": True}
    with pytest.raises(InvalidKnobConfigError, match=r"knob 'depth' value 11 is outside \[1, 10\]"):
        validate_knob_values(config, {"depth": 11}, partial=True)
    with pytest.raises(InvalidKnobConfigError, match="knob 'act' value 'gelu' is not one of"):
        validate_knob_values(config, {"act": "gelu"}, partial=True)
    with pytest.raises(InvalidKnobConfigError, match="unknown knob"):
        validate_knob_values(config, {"depht": 3}, partial=True)
    with pytest.raises(InvalidKnobConfigError, match="needs a int value"):
        validate_knob_values(config, {"depth": "four"}, partial=True)
    with pytest.raises(InvalidKnobConfigError, match="no value for knob"):
        validate_knob_values(config, {"depth": 3})


def test_arch_knob_values_are_checked_per_position():
    config = {"arch": ArchKnob([[0], ["a", "b"]])}
    assert validate_knob_values(config, {"arch": [0, "b"]}) == {"arch": [0, "b"]}
    with pytest.raises(InvalidKnobConfigError, match="position 1 value 'c'"):
        validate_knob_values(config, {"arch": [0, "c"]})
    with pytest.raises(InvalidKnobConfigError, match="list of 2 values"):
        validate_knob_values(config, {"arch": [0]})
