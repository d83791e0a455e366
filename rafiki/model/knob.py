"""Knobs: how a model declares the values it can be tuned on.

A model's ``get_knob_config()`` returns a dict of knob name -> knob. The advisor proposes a
value for every knob; the model is built with ``Model(**knobs)``. A knob config serialises to
JSON and back exactly (``knob_config_to_json`` / ``knob_config_from_json``), which is how the
platform stores it.
"""

from __future__ import annotations

import abc
import math
from typing import Any


class InvalidKnobConfigError(ValueError):
    """A knob, a knob config or a knob value is not valid. The message names the knob."""


class Policy:
    """Policies a model can offer with ``PolicyKnob(policy)``; the advisor switches them."""

    SHARE_PARAMS = "SHARE_PARAMS"
    EARLY_STOP = "EARLY_STOP"
    SKIP_TRAIN = "SKIP_TRAIN"
    QUICK_EVAL = "QUICK_EVAL"
    DOWNSCALE = "DOWNSCALE"

    ALL = (SHARE_PARAMS, EARLY_STOP, SKIP_TRAIN, QUICK_EVAL, DOWNSCALE)


_PRIMITIVE_TYPES = (str, int, float, bool)


def _type_name(value: Any) -> str:
    # bool is a subclass of int: check it first so True is never taken for 1.
    for t in (bool, int, float, str):
        if isinstance(value, t):
            return t.__name__
    raise InvalidKnobConfigError(
        f"knob values must be str, int, float or bool, not {type(value).__name__} ({value!r})"
    )


class KnobValue:
    """A categorical value. Reusing one instance at several positions of an ``ArchKnob``
    means the same value (for example the same input layer)."""

    def __init__(self, value: str | float | bool):
        if isinstance(value, KnobValue):
            value = value.value
        self._dtype = _type_name(value)
        self._value = value

    @property
    def value(self) -> str | int | float | bool:
        return self._value

    @property
    def dtype(self) -> type:
        return {"bool": bool, "int": int, "float": float, "str": str}[self._dtype]

    def __repr__(self) -> str:
        return f"KnobValue({self._value!r})"


#: The original Rafiki's name for ``KnobValue``.
CategoricalValue = KnobValue


def _as_knob_value(value: Any) -> KnobValue:
    return value if isinstance(value, KnobValue) else KnobValue(value)


def _check_same_type(values: list[KnobValue], what: str) -> str:
    types = {v._dtype for v in values}
    # ints and floats mix freely in a numeric list; anything else must be one type.
    if types <= {"int", "float"} and len(types) == 2:
        return "float"
    if len(types) > 1:
        raise InvalidKnobConfigError(
            f"{what} mixes value types {sorted(types)}: use one of str, int, float or bool"
        )
    return types.pop()


class BaseKnob(abc.ABC):
    """The base of every knob type."""

    @abc.abstractmethod
    def to_json(self) -> dict: ...

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.to_json() == self.to_json()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(repr(self.to_json()))

    def __repr__(self) -> str:
        args = {k: v for k, v in self.to_json().items() if k != "type"}
        return f"{type(self).__name__}({args})"


class CategoricalKnob(BaseKnob):
    """A value chosen from ``values`` (all of one type: str, int, float or bool)."""

    def __init__(self, values: list[str | int | float | bool | KnobValue]):
        if not isinstance(values, (list, tuple)) or len(values) == 0:
            raise InvalidKnobConfigError("CategoricalKnob needs a non-empty list of values")
        self._values = [_as_knob_value(v) for v in values]
        self._value_type = _check_same_type(self._values, "CategoricalKnob")

    @property
    def values(self) -> list[KnobValue]:
        return list(self._values)

    @property
    def value_type(self) -> type:
        return {"bool": bool, "int": int, "float": float, "str": str}[self._value_type]

    def to_json(self) -> dict:
        return {"type": "CategoricalKnob", "values": [v.value for v in self._values]}


class FixedKnob(BaseKnob):
    """A value that is not tuned."""

    def __init__(self, value: str | float | bool | KnobValue):
        self._value = _as_knob_value(value)

    @property
    def value(self) -> str | int | float | bool:
        return self._value.value

    @property
    def value_type(self) -> type:
        return self._value.dtype

    def to_json(self) -> dict:
        return {"type": "FixedKnob", "value": self.value}


class PolicyKnob(BaseKnob):
    """Whether the advisor activates a policy for a trial (True or False, False by default).
    ``policy`` is one of ``Policy.ALL``."""

    def __init__(self, policy: str):
        if policy not in Policy.ALL:
            raise InvalidKnobConfigError(
                f"PolicyKnob policy {policy!r} is not one of {', '.join(Policy.ALL)}"
            )
        self._policy = policy

    @property
    def policy(self) -> str:
        return self._policy

    def to_json(self) -> dict:
        return {"type": "PolicyKnob", "policy": self._policy}


class _RangeKnob(BaseKnob):
    _kind: type = float

    def __init__(self, value_min: Any, value_max: Any, is_exp: bool = False):
        name = type(self).__name__
        for label, v in (("value_min", value_min), ("value_max", value_max)):
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            if self._kind is int:
                ok = ok and float(v).is_integer()
            if not ok or not math.isfinite(float(v)):
                raise InvalidKnobConfigError(
                    f"{name} {label} must be a finite {self._kind.__name__}, not {v!r}"
                )
        if not isinstance(is_exp, bool):
            raise InvalidKnobConfigError(f"{name} is_exp must be True or False, not {is_exp!r}")
        if value_min > value_max:
            raise InvalidKnobConfigError(
                f"{name} value_min ({value_min}) is greater than value_max ({value_max})"
            )
        if is_exp and value_min <= 0:
            raise InvalidKnobConfigError(
                f"{name} with is_exp=True needs value_min > 0 (a log scale), got {value_min}"
            )
        self._value_min = self._kind(value_min)
        self._value_max = self._kind(value_max)
        self._is_exp = is_exp

    @property
    def value_min(self):
        return self._value_min

    @property
    def value_max(self):
        return self._value_max

    @property
    def is_exp(self) -> bool:
        return self._is_exp

    def to_json(self) -> dict:
        return {
            "type": type(self).__name__,
            "value_min": self._value_min,
            "value_max": self._value_max,
            "is_exp": self._is_exp,
        }


class IntegerKnob(_RangeKnob):
    """An int in [value_min, value_max]; searched on a log scale when ``is_exp``."""

    _kind = int


class FloatKnob(_RangeKnob):
    """A float in [value_min, value_max]; searched on a log scale when ``is_exp``."""

    _kind = float


class ArchKnob(BaseKnob):
    """Part of an architecture: a fixed-size list whose i-th value is chosen from ``items[i]``.

    A ``KnobValue`` instance reused at several indices means the same value at each of them.
    """

    def __init__(self, items: list[list[str | int | float | bool | KnobValue]]):
        if not isinstance(items, (list, tuple)) or len(items) == 0:
            raise InvalidKnobConfigError("ArchKnob needs a non-empty list of items")
        self._items: list[list[KnobValue]] = []
        for i, item in enumerate(items):
            if not isinstance(item, (list, tuple)) or len(item) == 0:
                raise InvalidKnobConfigError(
                    f"ArchKnob item {i} must be a non-empty list of candidate values, got {item!r}"
                )
            values = [_as_knob_value(v) for v in item]
            _check_same_type(values, f"ArchKnob item {i}")
            self._items.append(values)

    @property
    def items(self) -> list[list[KnobValue]]:
        return [list(item) for item in self._items]

    def to_json(self) -> dict:
        # Distinct KnobValue instances go into one table so that a value reused at several
        # positions comes back as one shared instance.
        table: list[KnobValue] = []
        index: dict[int, int] = {}
        items = []
        for item in self._items:
            refs = []
            for v in item:
                if id(v) not in index:
                    index[id(v)] = len(table)
                    table.append(v)
                refs.append(index[id(v)])
            items.append(refs)
        return {"type": "ArchKnob", "values": [v.value for v in table], "items": items}


_KNOB_TYPES = {
    cls.__name__: cls
    for cls in (CategoricalKnob, FixedKnob, PolicyKnob, IntegerKnob, FloatKnob, ArchKnob)
}


def validate_knob_config(config: Any) -> None:
    """Check that ``config`` is a dict of str -> knob. Raises ``InvalidKnobConfigError``."""
    if not isinstance(config, dict):
        raise InvalidKnobConfigError(
            f"get_knob_config() must return a dict of knob name -> knob, not {type(config).__name__}"
        )
    for name, knob in config.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidKnobConfigError(f"knob name {name!r} must be a Python identifier")
        if not isinstance(knob, BaseKnob):
            raise InvalidKnobConfigError(
                f"knob {name!r} must be a knob (IntegerKnob, FloatKnob, ...), "
                f"not {type(knob).__name__}"
            )


def knob_config_to_json(config: dict[str, BaseKnob]) -> dict:
    """A JSON-serialisable form of a knob config; ``knob_config_from_json`` reverses it."""
    validate_knob_config(config)
    return {name: knob.to_json() for name, knob in config.items()}


def knob_config_from_json(data: dict) -> dict[str, BaseKnob]:
    """Rebuild a knob config from ``knob_config_to_json`` output."""
    if not isinstance(data, dict):
        raise InvalidKnobConfigError("a stored knob config must be a JSON object")
    config: dict[str, BaseKnob] = {}
    for name, spec in data.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind not in _KNOB_TYPES:
            raise InvalidKnobConfigError(f"knob {name!r} has unknown type {kind!r}")
        try:
            if kind == "CategoricalKnob":
                config[name] = CategoricalKnob(spec["values"])
            elif kind == "FixedKnob":
                config[name] = FixedKnob(spec["value"])
            elif kind == "PolicyKnob":
                config[name] = PolicyKnob(spec["policy"])
            elif kind in ("IntegerKnob", "FloatKnob"):
                config[name] = _KNOB_TYPES[kind](
                    spec["value_min"], spec["value_max"], spec.get("is_exp", False)
                )
            else:
                table = [KnobValue(v) for v in spec["values"]]
                config[name] = ArchKnob([[table[i] for i in item] for item in spec["items"]])
        except (KeyError, IndexError, TypeError) as e:
            raise InvalidKnobConfigError(f"knob {name!r} is malformed: {e!r}") from None
    return config


def _coerce(name: str, value: Any, kind: type) -> Any:
    """Convert ``value`` to ``kind``; strings (typed by a user or on a command line) are parsed."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif kind is str and isinstance(value, str):
        return value
    raise InvalidKnobConfigError(f"knob {name!r} needs a {kind.__name__} value, got {value!r}")


def validate_knob_value(name: str, knob: BaseKnob, value: Any) -> Any:
    """Check one value against its knob and return it converted to the knob's type."""
    if isinstance(knob, (IntegerKnob, FloatKnob)):
        v = _coerce(name, value, knob._kind)
        if not knob.value_min <= v <= knob.value_max:
            raise InvalidKnobConfigError(
                f"knob {name!r} value {v} is outside [{knob.value_min}, {knob.value_max}]"
            )
        return v
    if isinstance(knob, CategoricalKnob):
        v = _coerce(name, value, knob.value_type)
        allowed = [c.value for c in knob.values]
        if v not in allowed:
            raise InvalidKnobConfigError(f"knob {name!r} value {v!r} is not one of {allowed}")
        return v
    if isinstance(knob, FixedKnob):
        # A fixed knob may be overridden by a user, as long as the type matches.
        return _coerce(name, value, knob.value_type)
    if isinstance(knob, PolicyKnob):
        return _coerce(name, value, bool)
    if isinstance(knob, ArchKnob):
        if not isinstance(value, (list, tuple)) or len(value) != len(knob.items):
            raise InvalidKnobConfigError(
                f"knob {name!r} needs a list of {len(knob.items)} values, got {value!r}"
            )
        out = []
        for i, (v, item) in enumerate(zip(value, knob.items)):
            allowed = [c.value for c in item]
            if v not in allowed:
                raise InvalidKnobConfigError(
                    f"knob {name!r} position {i} value {v!r} is not one of {allowed}"
                )
            out.append(v)
        return out
    raise InvalidKnobConfigError(f"knob {name!r} has an unknown type {type(knob).__name__}")


def validate_knob_values(
    config: dict[str, BaseKnob], values: dict[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Check a dict of knob values against a knob config and return it with each value
    converted to its knob's type. With ``partial``, knobs may be missing (fixed values a user
    types for some knobs); otherwise every knob needs a value."""
    if not isinstance(values, dict):
        raise InvalidKnobConfigError("knob values must be a dict of knob name -> value")
    unknown = sorted(set(values) - set(config))
    if unknown:
        raise InvalidKnobConfigError(
            f"unknown knob(s) {', '.join(map(repr, unknown))}: the model defines "
            f"{', '.join(sorted(config)) or 'no knobs'}"
        )
    if not partial:
        missing = sorted(set(config) - set(values))
        if missing:
            raise InvalidKnobConfigError(f"no value for knob(s) {', '.join(map(repr, missing))}")
    return {name: validate_knob_value(name, config[name], v) for name, v in values.items()}
