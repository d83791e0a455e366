"""The base class of every Rafiki model, and loading a model class from its file."""

from __future__ import annotations

import abc
import hashlib
import linecache
import sys
import types
from typing import Any

import numpy as np

from rafiki.model.knob import BaseKnob

#: Knob name -> knob value, as proposed by the advisor.
Knobs = dict[str, Any]
#: Knob name -> knob: a model's search space.
KnobConfig = dict[str, BaseKnob]
#: Parameter name -> value: what ``dump_parameters`` returns and ``load_parameters`` takes.
Params = dict[str, str | int | float | np.ndarray]


class BaseModel(abc.ABC):
    """The class every Rafiki model extends.

    Implement every abstract method as the model's task specifies. ``__init__`` receives the
    knob values chosen for this instance; call ``super().__init__(**knobs)`` first (models that
    don't, and set their attributes themselves, work too)::

        def __init__(self, **knobs):
            super().__init__(**knobs)
            self.__dict__.update(knobs)
    """

    def __init__(self, **knobs: Any):
        pass

    @staticmethod
    @abc.abstractmethod
    def get_knob_config() -> KnobConfig:
        """Return the search space: a dict of knob name -> knob."""

    @abc.abstractmethod
    def train(
        self, dataset_path: str, shared_params: Params | None = None, **train_args: Any
    ) -> None:
        """Train on the dataset at ``dataset_path``. ``shared_params`` holds parameters from an
        earlier trial when the SHARE_PARAMS policy is active; ``train_args`` come from the job."""

    @abc.abstractmethod
    def evaluate(self, dataset_path: str) -> float:
        """Return a score on the validation dataset at ``dataset_path``; higher is better."""

    @abc.abstractmethod
    def predict(self, queries: list[Any]) -> list[Any]:
        """Return one prediction per query, in order, in the task's format."""

    @abc.abstractmethod
    def dump_parameters(self) -> Params:
        """Return the trained state as a ``Params`` dict (str, int, float, numpy arrays)."""

    @abc.abstractmethod
    def load_parameters(self, params: Params) -> None:
        """Restore the trained state from ``dump_parameters`` output."""

    def destroy(self) -> None:
        """Release resources (sessions, GPU memory) when the instance is no longer needed."""


def load_model_class(
    model_file_bytes: bytes, model_class: str, temp_mod_name: str | None = None
) -> type:
    """Execute a model file and return its class named ``model_class``.

    The file runs as a module registered under ``temp_mod_name`` (by default a name derived
    from the file's content), so that classes it defines can be found by name again.
    Raises ``ImportError`` naming the problem when the class is missing or not a model.
    """
    if isinstance(model_file_bytes, str):
        model_file_bytes = model_file_bytes.encode("utf-8")
    digest = hashlib.sha1(model_file_bytes).hexdigest()[:12]
    name = temp_mod_name or f"rafiki_model_{digest}"
    module = types.ModuleType(name)
    module.__file__ = f"<model file {model_class}>"
    # Tracebacks then show the model's own lines, though the file exists nowhere on disk.
    text = model_file_bytes.decode("utf-8", errors="replace")
    linecache.cache[module.__file__] = (len(text), None, text.splitlines(True), module.__file__)
    sys.modules[name] = module
    try:
        code = compile(model_file_bytes, module.__file__, "exec")
        exec(code, module.__dict__)  # noqa: S102 - loading the model file is the point
    except BaseException:
        sys.modules.pop(name, None)
        raise
    clazz = getattr(module, model_class, None)
    if clazz is None:
        raise ImportError(f"the model file defines no class named {model_class!r}")
    if not isinstance(clazz, type) or not issubclass(clazz, BaseModel):
        raise ImportError(f"{model_class!r} does not subclass rafiki.model.BaseModel")  # noqa: TRY004 - one error type for a bad model file
    return clazz


def missing_abstract_methods(clazz: type) -> list[str]:
    """The names of ``BaseModel`` methods that ``clazz`` leaves unimplemented."""
    return sorted(getattr(clazz, "__abstractmethods__", ()))
