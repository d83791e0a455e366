"""``test_model_class``: try a model file locally the way the platform will run it."""

from __future__ import annotations

import importlib.metadata
import json
import math
import numbers
import os
import sys
import tempfile
import time
import traceback
from typing import Any

import numpy as np

from rafiki.constants import DEFAULT_BUDGET, BudgetOption
from rafiki.model.knob import (
    FixedKnob,
    InvalidKnobConfigError,
    validate_knob_config,
    validate_knob_values,
)
from rafiki.model.model import BaseModel, load_model_class, missing_abstract_methods
from rafiki.model.params import InvalidParamsError, load_params, save_params, validate_params

#: Trials run locally when the budget names no MODEL_TRIAL_COUNT (the platform's default is
#: unlimited within TIME_HOURS, which is too long for a quick check on a laptop).
LOCAL_DEFAULT_TRIAL_COUNT = 5


class ModelContractError(Exception):
    """The model broke the SDK's contract (a wrong return type, parameters that do not load,
    a knob config that is not valid, ...). The message says which rule and where."""


def _say(text: str) -> None:
    print(text, flush=True)


def parse_cli_overrides(
    argv: list[str], knob_names: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Read ``--NAME=VALUE`` / ``--NAME VALUE`` flags for budget options and knobs.
    Flags naming neither are ignored (the model file's own argparse handles them)."""
    budget: dict[str, str] = {}
    knobs: dict[str, str] = {}
    budget_names = set(BudgetOption.values())
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("--"):
            continue
        name, sep, value = arg[2:].partition("=")
        if not sep:
            if i < len(argv) and not argv[i].startswith("--"):
                value = argv[i]
                i += 1
            else:
                continue
        if name in budget_names:
            budget[name] = value
        elif name in knob_names:
            knobs[name] = value
    return budget, knobs


def _read_budget(budget: dict[str, Any] | None, cli: dict[str, str]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(DEFAULT_BUDGET)
    merged[BudgetOption.MODEL_TRIAL_COUNT] = LOCAL_DEFAULT_TRIAL_COUNT
    merged.update({str(k): v for k, v in (budget or {}).items()})
    merged.update(cli)
    try:
        out = {
            BudgetOption.TIME_HOURS: float(merged[BudgetOption.TIME_HOURS]),
            BudgetOption.GPU_COUNT: int(merged[BudgetOption.GPU_COUNT]),
            BudgetOption.MODEL_TRIAL_COUNT: int(merged[BudgetOption.MODEL_TRIAL_COUNT]),
        }
    except (TypeError, ValueError) as e:
        raise ValueError(f"budget values must be numbers: {e}") from None
    if out[BudgetOption.TIME_HOURS] <= 0:
        raise ValueError("budget TIME_HOURS must be greater than 0")
    return out


def warn_missing_dependencies(dependencies: dict[str, str] | None) -> list[str]:
    """Print a warning for each declared dependency that is not installed; return their names."""
    missing = []
    for name, version in (dependencies or {}).items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
            _say(
                f"WARNING: dependency {name}=={version} is not installed; install it to run the model."
            )
            continue
        if version and installed != version and not installed.startswith(f"{version}."):
            _say(f"Note: dependency {name} is {installed} here; the model declares {version}.")
    return missing


def _call(what: str, fn, *args, **kwargs):
    """Call model code; an exception becomes one readable report of the model's own frames."""
    try:
        return fn(*args, **kwargs)
    except ModelContractError:
        raise
    except Exception as e:
        frames = traceback.extract_tb(e.__traceback__)[1:]
        trace = "".join(traceback.format_list(frames)) + f"{type(e).__name__}: {e}"
        raise ModelContractError(f"{what} raised {type(e).__name__}: {e}\n{trace}") from e


def _check_score(score: Any) -> float:
    if isinstance(score, bool) or not isinstance(score, numbers.Real):
        raise ModelContractError(
            f"evaluate() must return a number (the score, higher is better), "
            f"not {type(score).__name__} ({score!r})"
        )
    score = float(score)
    if not math.isfinite(score):
        raise ModelContractError(f"evaluate() must return a finite number, not {score}")
    return score


def _check_params(params: Any) -> dict:
    try:
        validate_params(params)
    except InvalidParamsError as e:
        raise ModelContractError(f"dump_parameters() returned invalid parameters: {e}") from None
    return params


def _check_predictions(predictions: Any, queries: list[Any], who: str) -> list[Any]:
    if isinstance(predictions, np.ndarray):
        predictions = predictions.tolist()
    if not isinstance(predictions, (list, tuple)):
        raise ModelContractError(
            f"predict() of the {who} must return a list, not {type(predictions).__name__}"
        )
    if len(predictions) != len(queries):
        raise ModelContractError(
            f"predict() of the {who} returned {len(predictions)} predictions for {len(queries)} queries"
        )
    return list(predictions)


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    return value


def _same(a: Any, b: Any) -> bool:
    a, b = _to_jsonable(a), _to_jsonable(b)
    try:
        return bool(
            np.allclose(
                np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-5, atol=1e-6
            )
        )
    except (TypeError, ValueError):
        return json.dumps(a, sort_keys=True, default=str) == json.dumps(
            b, sort_keys=True, default=str
        )


def _make(clazz: type, knobs: dict[str, Any]) -> BaseModel:
    return _call(f"{clazz.__name__}(**knobs)", clazz, **knobs)


def _destroy(model: BaseModel) -> None:
    destroy = getattr(model, "destroy", None)
    if callable(destroy):
        _call("destroy()", destroy)


def test_model_class(
    model_file_path: str,
    model_class: str,
    task: str,
    dependencies: dict[str, str],
    train_dataset_path: str,
    val_dataset_path: str,
    test_dataset_path: str | None = None,
    budget: dict[str, Any] | None = None,
    train_args: dict[str, Any] | None = None,
    queries: list[Any] | None = None,
) -> tuple[list[Any] | None, BaseModel]:
    """Simulate, on this machine, how Rafiki trains, tunes and serves a model class.

    Loads the class from ``model_file_path``, checks its knob config, runs trials proposed by
    the advisor within ``budget`` (budget options and knob values can also be given on the
    command line, e.g. ``--MODEL_TRIAL_COUNT=3 --TIME_HOURS=0.01 --max_depth=4``), checks
    that the best trial's ``dump_parameters()`` output loads into a fresh instance that
    predicts what the trained one predicts, evaluates on ``test_dataset_path`` if given, and
    predicts ``queries``. Assumes the model's dependencies are installed (it warns otherwise).

    Returns ``(predictions of the best model on queries, the best model)``. Raises
    ``ModelContractError`` with a plain explanation when the model breaks the contract.
    """
    started = time.monotonic()
    _say(f"Testing model class {model_class!r} from {model_file_path} for task {task}...")
    warn_missing_dependencies(dependencies)

    with open(model_file_path, "rb") as f:
        source = f.read()
    try:
        clazz = load_model_class(source, model_class)
    except ImportError as e:
        raise ModelContractError(str(e)) from None
    missing = missing_abstract_methods(clazz)
    if missing:
        raise ModelContractError(f"class {model_class} does not implement: {', '.join(missing)}")

    knob_config = _call("get_knob_config()", clazz.get_knob_config)
    try:
        validate_knob_config(knob_config)
    except InvalidKnobConfigError as e:
        raise ModelContractError(f"get_knob_config() is not valid: {e}") from None

    cli_budget, cli_knobs = parse_cli_overrides(sys.argv[1:], list(knob_config))
    budget = _read_budget(budget, cli_budget)
    if cli_knobs:
        try:
            fixed = validate_knob_values(knob_config, cli_knobs, partial=True)
        except InvalidKnobConfigError as e:
            raise ModelContractError(
                f"a knob value on the command line is not valid: {e}"
            ) from None
        knob_config = {**knob_config, **{name: FixedKnob(v) for name, v in fixed.items()}}
        _say(f"Knobs fixed from the command line: {fixed}")

    from rafiki.advisor import make_advisor  # imported here: it loads Optuna

    advisor = make_advisor(knob_config, budget, seed=0)
    trial_count = budget[BudgetOption.MODEL_TRIAL_COUNT]
    deadline = started + budget[BudgetOption.TIME_HOURS] * 3600
    total = "unlimited" if trial_count < 0 else str(trial_count)
    _say(f"Tuning scheme: {advisor.scheme}; budget: {budget}")

    train_args = dict(train_args or {})
    best: tuple[float, dict[str, Any], dict, BaseModel] | None = None
    n = 0
    while trial_count < 0 or n < trial_count:
        if time.monotonic() >= deadline:
            _say("Time budget used up: no more trials.")
            break
        proposal = advisor.propose()
        if proposal is None:
            break
        n += 1
        trial_started = time.monotonic()
        _say(f"--- Trial {n} of {total}: knobs {proposal.knobs}")
        model = _make(clazz, proposal.knobs)
        kwargs = dict(train_args)
        if proposal.share_params and best:
            # Passed only when there is something to share, so that models whose train()
            # takes no shared_params (older Rafiki model files) keep working.
            kwargs["shared_params"] = best[2]
        _call("train()", model.train, train_dataset_path, **kwargs)
        score = _check_score(_call("evaluate()", model.evaluate, val_dataset_path))
        params = _check_params(_call("dump_parameters()", model.dump_parameters))
        advisor.feedback(proposal.knobs, score)
        if best is None or score > best[0]:
            if best is not None:
                _destroy(best[3])
            best = (score, proposal.knobs, params, model)
        else:
            _destroy(model)
        _say(
            f"Trial {n} of {total}: score {score:.6g} (best so far {best[0]:.6g}) "
            f"in {time.monotonic() - trial_started:.1f}s"
        )

    if best is None:
        raise ModelContractError("no trial ran: the budget allows none")
    best_score, best_knobs, best_params, trained = best

    # What the platform does with the best trial: store the parameters, load them into a
    # fresh instance later, and serve predictions from it.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "params.rfp")
        save_params(best_params, path)
        stored = load_params(path)
    loaded = _make(clazz, best_knobs)
    _call("load_parameters()", loaded.load_parameters, stored)

    predictions = None
    if queries is not None:
        queries = list(queries)
        expected = _check_predictions(
            _call("predict()", trained.predict, queries), queries, "trained model"
        )
        predictions = _check_predictions(
            _call("predict()", loaded.predict, queries), queries, "model loaded with its parameters"
        )
        for i, (a, b) in enumerate(zip(expected, predictions)):
            if not _same(a, b):
                raise ModelContractError(
                    f"a fresh instance loaded with dump_parameters() output predicts {b!r} for "
                    f"query {i}, but the trained instance predicted {a!r}: load_parameters() "
                    "does not restore the whole trained state"
                )
    _destroy(trained)

    test_score = None
    if test_dataset_path:
        test_score = _check_score(_call("evaluate()", loaded.evaluate, test_dataset_path))

    _say("=== Summary")
    _say(f"Trials run: {n}; best score {best_score:.6g} with knobs {best_knobs}")
    if test_score is not None:
        _say(f"Score of the best model on the test dataset: {test_score:.6g}")
    if predictions is not None:
        shown = json.dumps(_to_jsonable(predictions), default=str)
        _say(f"Predictions of the best model: {shown[:2000]}")
    _say(
        f"Parameters saved and loaded back: {len(best_params)} entries. Done in {time.monotonic() - started:.1f}s."
    )
    return predictions, loaded


test_model_class.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
