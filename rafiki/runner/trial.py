"""The trial child process: ``python -m rafiki.runner.trial spec.json``.

Runs one trial of a model file and leaves three outputs for the supervising parent:
``events_path`` (the SDK logger's records, one JSON object a line), ``params_path`` (the
model's parameters in the SDK's pickle-free format) and ``result_path``, written last and
atomically::

    {"status": "COMPLETED", "score": 0.93}
    {"status": "ERRORED", "error": "ValueError: bad shape", "traceback": "Traceback ..."}

Spec keys: ``model_file`` (path), ``model_class``, ``knobs``, ``train_dataset_path``,
``val_dataset_path``, ``train_args``, ``shared_params_path`` (or null), ``events_path``,
``result_path``, ``params_path``.

The process exits 0 once a result is written. Anything else (killed, ``sys.exit`` in model
code, no spec) leaves no result.json, and the parent classifies the exit.
"""

from __future__ import annotations

import faulthandler
import json
import math
import numbers
import os
import sys
import traceback
from typing import Any

#: Kept of a traceback / an error message in result.json (the parent caps result.json size).
MAX_TRACEBACK_CHARS = 64 * 1024
MAX_ERROR_CHARS = 2000


class ContractError(Exception):
    """The model broke the BaseModel contract (a return type, not an exception it raised)."""


def _score(value: Any) -> float:
    # numpy 0-d arrays and numpy bools are unwrapped to Python values first.
    if not isinstance(value, numbers.Real) and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ContractError(
            f"evaluate() must return a number (the validation score, higher is better), "
            f"got {type(value).__name__}: {_short_repr(value)}"
        )
    score = float(value)
    if not math.isfinite(score):
        raise ContractError(f"evaluate() must return a finite number, got {score}")
    return score


def _short_repr(value: Any, limit: int = 200) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a model object's __repr__ may raise anything
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def run(spec: dict) -> float:
    """Build, train, evaluate and dump the model; returns the score."""
    from rafiki.model.model import load_model_class
    from rafiki.model.params import InvalidParamsError, load_params, save_params, validate_params

    with open(spec["model_file"], "rb") as f:
        clazz = load_model_class(f.read(), spec["model_class"])
    model = clazz(**(spec.get("knobs") or {}))
    try:
        train_kwargs = dict(spec.get("train_args") or {})
        if spec.get("shared_params_path"):
            # Passed only when there is something to share, so models whose train() takes no
            # shared_params keep working.
            train_kwargs["shared_params"] = load_params(spec["shared_params_path"])
        model.train(spec["train_dataset_path"], **train_kwargs)
        score = _score(model.evaluate(spec["val_dataset_path"]))

        params = model.dump_parameters()
        if not isinstance(params, dict):
            raise ContractError(
                "dump_parameters() must return a dict of parameter name -> value "
                f"(str, int, float or numpy array), got {type(params).__name__}: "
                f"{_short_repr(params)}"
            )
        try:
            validate_params(params)
        except InvalidParamsError as e:
            raise ContractError(f"dump_parameters() returned invalid parameters: {e}") from None
        save_params(params, spec["params_path"])
        return score
    finally:
        destroy = getattr(model, "destroy", None)
        if callable(destroy):
            _destroy_quietly(destroy)


def _destroy_quietly(destroy: Any) -> None:
    # A failing cleanup must not turn a finished trial into an error (nor hide the error that
    # ended a failed one): it is reported in the log instead.
    try:
        destroy()
    except Exception as e:  # noqa: BLE001 - model code
        _log_message(f"destroy() raised {type(e).__name__}: {e}")


def _log_message(message: str) -> None:
    try:
        from rafiki.model.utils import logger

        logger.log(message)
    except Exception:  # noqa: BLE001 - the sink is gone: stderr is the last resort
        print(message, file=sys.stderr)


def error_text(e: BaseException) -> str:
    """The one-line error of a failed model call (the serving child words its errors so too)."""
    if isinstance(e, ContractError):
        text = str(e)
    elif isinstance(e, MemoryError):
        # numpy raises a private subclass; one name lets the parent recognise memory errors.
        text = f"MemoryError: {e}" if str(e) else "MemoryError"
    else:
        text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[:MAX_ERROR_CHARS] + "..."


_RUNNER_DIR = os.path.dirname(os.path.abspath(__file__))


def traceback_text(e: BaseException) -> str:
    # The frames of this runner (main, run) mean nothing to the model's author: start at the
    # first frame of theirs, or of a library they called.
    tb = e.__traceback__
    while tb is not None and os.path.dirname(tb.tb_frame.f_code.co_filename) == _RUNNER_DIR:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(e), e, tb or e.__traceback__))
    if len(text) > MAX_TRACEBACK_CHARS:
        # The end of a traceback is where the error is.
        text = "...\n" + text[-MAX_TRACEBACK_CHARS:]
    return text


def write_result(path: str, result: dict) -> None:
    """Write result.json atomically: the parent sees no file or the whole file."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, allow_nan=False)
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    # A crash in native code still prints the Python stack to stderr (kept by the parent).
    faulthandler.enable()
    if len(argv) != 2:
        print("usage: python -m rafiki.runner.trial spec.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        spec = json.load(f)

    # Room to format a traceback after a MemoryError: freed before formatting.
    reserve: bytearray | None = bytearray(4 * 1024 * 1024)
    sink = None
    try:
        from rafiki.model.log import JsonLinesSink
        from rafiki.model.utils import logger

        sink = JsonLinesSink(spec["events_path"])
        logger.set_sink(sink)
        result: dict = {"status": "COMPLETED", "score": run(spec)}
    except Exception as e:  # noqa: BLE001 - whatever model code raises is the trial's error
        reserve = None
        # The frames' locals (a huge array, say) are not needed to describe the error.
        traceback.clear_frames(e.__traceback__)
        result = {"status": "ERRORED", "error": error_text(e), "traceback": traceback_text(e)}
    del reserve
    if sink is not None:
        sink.close()  # the parent reads the last events once the process has exited
    write_result(spec["result_path"], result)
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter shutdown: a non-daemon thread left running by model code would
    # otherwise keep the finished trial alive until its timeout.
    os._exit(code)
