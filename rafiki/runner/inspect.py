"""Checking an uploaded model file before it is stored, in a confined subprocess.

Importing a model file runs its code, so it happens in a child with the trial sandbox
(limits, reduced environment, bubblewrap where available) and a timeout. The child
(``python -m rafiki.runner.inspect <folder>``) parses the file, imports it, checks the class
and its knob config, and writes ``result.json``; the parent turns any failure into a
``ModelInspectionError`` whose message names the problem.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import tempfile
from typing import Any

from rafiki.runner.limits import (
    ConfinedProcess,
    Limits,
    UntrustedFileError,
    read_capped,
    signal_name,
)

_MODEL_FILE = "model.py"
_REQUEST_FILE = "request.json"
_RESULT_FILE = "result.json"
_STAGE_FILE = "stage"
_MAX_RESULT_BYTES = 4 * 1024 * 1024
_MODULE_NAME = "rafiki_inspected_model"

#: What the child was doing, for a timeout message.
_STAGES = {
    "parse": "parsing the model file",
    "import": "importing the model file",
    "knob_config": "get_knob_config()",
}


class ModelInspectionError(Exception):
    """The model file cannot be used; the message says why, for the person who uploaded it."""


def inspect_model_file(
    file_bytes: bytes,
    class_name: str,
    *,
    timeout: float = 20,
    limits: Limits | None = None,
    python: str = sys.executable,
) -> dict:
    """Check a model file in a sandboxed subprocess and return
    ``{"knob_config": knob_config_to_json(config), "dependencies_imported": [top-level
    non-standard-library modules the file imported]}``.

    Raises ``ModelInspectionError`` naming the problem: a syntax error (with its line), no
    such class, not a ``BaseModel`` subclass, unimplemented abstract methods, an import or
    ``get_knob_config()`` that raises or does not finish within ``timeout`` seconds, an
    invalid knob config.
    """
    if not isinstance(class_name, str) or not class_name.isidentifier():
        raise ModelInspectionError(f"{class_name!r} is not a valid Python class name")
    if isinstance(file_bytes, str):
        file_bytes = file_bytes.encode("utf-8")
    # The trial's memory default: a file importing a big framework at the top must pass here
    # if it can train at all.
    limits = limits or Limits(wall_seconds=timeout, file_size_mb=64)
    with tempfile.TemporaryDirectory(prefix="rafiki-inspect-", ignore_cleanup_errors=True) as d:
        with open(os.path.join(d, _MODEL_FILE), "wb") as f:
            f.write(file_bytes)
        with open(os.path.join(d, _REQUEST_FILE), "w", encoding="utf-8") as f:
            json.dump({"class_name": class_name}, f)
        argv = [python, "-P", "-m", "rafiki.runner.inspect", d]
        with ConfinedProcess(argv, workdir=d, limits=limits) as proc:
            if not proc.pump(timeout):
                proc.close()
                stage = _read_stage(d)
                raise ModelInspectionError(
                    f"{_STAGES.get(stage, 'importing the model file')} did not finish "
                    f"within {timeout:g} s"
                )
            info = proc.finish()
        try:
            data = read_capped(os.path.join(d, _RESULT_FILE), _MAX_RESULT_BYTES)
            result = json.loads(data)
        except (UntrustedFileError, ValueError):
            result = None
    stderr = proc.stderr.last_text(4000)
    if not isinstance(result, dict):
        code = info.returncode
        last_line = stderr.strip().splitlines()[-1:] or [""]
        if "MemoryError" in stderr:
            raise ModelInspectionError(
                f"importing the model file ran out of memory (limit {limits.memory_mb} MB)"
            )
        if code is not None and code < 0:
            raise ModelInspectionError(
                f"importing the model file crashed the process ({signal_name(-code)})"
            )
        raise ModelInspectionError(
            f"importing the model file ended the process (exit code {code}) before the check "
            f"finished{': ' + last_line[0] if last_line[0] else ''}"
        )
    if result.get("ok") is True and isinstance(result.get("knob_config"), dict):
        deps = result.get("dependencies_imported")
        if not isinstance(deps, list) or not all(isinstance(x, str) for x in deps):
            deps = []
        return {"knob_config": result["knob_config"], "dependencies_imported": deps}
    error = result.get("error")
    raise ModelInspectionError(
        error[:2000] if isinstance(error, str) and error else "the model file check failed"
    )


def _read_stage(folder: str) -> str:
    try:
        return read_capped(os.path.join(folder, _STAGE_FILE), 64).decode("ascii", "replace")
    except (UntrustedFileError, OSError):
        return ""


# --- the child ----------------------------------------------------------------------------


class _Failed(Exception):
    pass


def _set_stage(stage: str) -> None:
    with open(_STAGE_FILE, "w") as f:
        f.write(stage)


def _describe(e: BaseException) -> str:
    text = str(e)
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _imported_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _dependencies(tree: ast.AST, modules_before: set[str]) -> list[str]:
    """Top-level third-party modules the file imported (the SDK and the standard library
    left out). Modules the SDK had already loaded (numpy) count when the file names them."""
    loaded = {name.split(".")[0] for name in sys.modules}
    new = {name.split(".")[0] for name in set(sys.modules) - modules_before}
    candidates = new | (_imported_names(tree) & loaded)
    stdlib = set(sys.stdlib_module_names)
    return sorted(
        n
        for n in candidates
        if n not in stdlib and not n.startswith("_") and n != "rafiki" and n != _MODULE_NAME
    )


def check_model_source(source: bytes, class_name: str) -> dict:
    """The checks themselves (in the child). Raises ``_Failed`` with the user's message."""
    _set_stage("parse")
    try:
        tree = ast.parse(source, filename=_MODEL_FILE)
    except SyntaxError as e:
        raise _Failed(f"syntax error on line {e.lineno}: {e.msg}") from None
    except ValueError as e:  # e.g. null bytes
        raise _Failed(f"the model file is not Python source: {e}") from None

    _set_stage("import")
    from rafiki.model.knob import InvalidKnobConfigError, knob_config_to_json, validate_knob_config
    from rafiki.model.model import BaseModel, load_model_class

    modules_before = set(sys.modules)
    try:
        load_model_class(source, class_name, temp_mod_name=_MODULE_NAME)
    except ImportError:
        # Either the file's own import failed (the module is gone) or the class check did
        # (the module stays registered): the checks below say which precisely.
        if _MODULE_NAME not in sys.modules:
            raise
    module = sys.modules[_MODULE_NAME]
    clazz = getattr(module, class_name, None)
    if clazz is None:
        raise _Failed(f"no class named {class_name} in the file")
    if not isinstance(clazz, type):
        raise _Failed(f"{class_name} in the file is a {type(clazz).__name__}, not a class")
    if not issubclass(clazz, BaseModel):
        raise _Failed(f"class {class_name} does not subclass rafiki.model.BaseModel")
    abstract = set(getattr(clazz, "__abstractmethods__", ()))
    if abstract:
        # In the order BaseModel declares them, as the documentation lists them.
        ordered = [n for n in vars(BaseModel) if n in abstract]
        ordered += sorted(abstract - set(ordered))
        raise _Failed(f"class {class_name} does not implement: {', '.join(ordered)}")

    _set_stage("knob_config")
    try:
        config = clazz.get_knob_config()
    except BaseException as e:  # noqa: BLE001 - SystemExit too: it is the model's code speaking
        raise _Failed(f"get_knob_config() raised {_describe(e)}") from None
    try:
        validate_knob_config(config)
        data = knob_config_to_json(config)
        json.dumps(data)
    except InvalidKnobConfigError as e:
        raise _Failed(f"the knob config is invalid: {e}") from None
    except (TypeError, ValueError) as e:
        raise _Failed(f"the knob config cannot be stored: {_describe(e)}") from None
    return {"knob_config": data, "dependencies_imported": _dependencies(tree, modules_before)}


def _write_result(result: dict) -> None:
    with open(_RESULT_FILE + ".tmp", "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(_RESULT_FILE + ".tmp", _RESULT_FILE)


def _child_main(folder: str) -> int:
    import faulthandler

    faulthandler.enable()
    os.chdir(folder)
    with open(_REQUEST_FILE, encoding="utf-8") as f:
        class_name = json.load(f)["class_name"]
    with open(_MODEL_FILE, "rb") as f:
        source = f.read()
    try:
        result: dict[str, Any] = {"ok": True, **check_model_source(source, class_name)}
    except _Failed as e:
        result = {"ok": False, "error": str(e)}
    except BaseException as e:  # noqa: BLE001 - the file's own code raised (SystemExit too)
        result = {"ok": False, "error": f"importing the model file raised {_describe(e)}"}
    _write_result(result)
    return 0


if __name__ == "__main__":
    _code = _child_main(sys.argv[1])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_code)  # threads started by the model file must not keep the check alive
