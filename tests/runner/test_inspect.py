"""Checking uploaded model files in a sandboxed subprocess (no database, no Django)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from rafiki.model.knob import knob_config_from_json
from rafiki.runner import ModelInspectionError, inspect_model_file

MODELS = Path(__file__).parent / "models"


def inspect(name: str, class_name: str, **kwargs: object) -> dict:
    return inspect_model_file((MODELS / name).read_bytes(), class_name, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_zygote_from_earlier_tests() -> None:
    # Trials run earlier in this process keep a warm-start zygote as a child on purpose;
    # inspection never uses it, and these tests count this process's children.
    from rafiki.runner.zygote import stop_zygote

    stop_zygote()


def assert_no_child_left() -> None:
    with pytest.raises(ChildProcessError):
        os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)


def test_a_good_file_gives_its_knob_config_and_dependencies() -> None:
    info = inspect("good.py", "Good")
    config = knob_config_from_json(info["knob_config"])
    assert sorted(config) == ["epochs", "lr"]
    assert info["dependencies_imported"] == ["numpy"]
    assert_no_child_left()


@pytest.mark.parametrize(
    ("name", "class_name", "message"),
    [
        ("syntax_error.py.txt", "Broken", "syntax error on line 3: expected ':'"),
        ("good.py", "Missing", "no class named Missing in the file"),
        ("not_a_model.py", "NotAModel", "class NotAModel does not subclass rafiki.model.BaseModel"),
        ("incomplete.py", "Incomplete", "class Incomplete does not implement: train, predict"),
        ("knob_config_raises.py", "BadKnobs", "get_knob_config() raised ValueError: layers must be positive"),
        ("missing_dependency.py", "Anything", "importing the model file raised ModuleNotFoundError: No module named 'surely_not_an_installed_package'"),
        ("good.py", "not a name", "'not a name' is not a valid Python class name"),
    ],
)  # fmt: skip
def test_a_bad_file_is_a_clear_error(name: str, class_name: str, message: str) -> None:
    with pytest.raises(ModelInspectionError) as caught:
        inspect(name, class_name)
    assert str(caught.value) == message
    assert_no_child_left()


def test_an_invalid_knob_config_names_the_knob() -> None:
    source = (
        (MODELS / "knob_config_raises.py")
        .read_text()
        .replace('raise ValueError("layers must be positive")', 'return {"layers": 3}')
    )
    with pytest.raises(
        ModelInspectionError, match=r"^the knob config is invalid: knob 'layers' must be a knob"
    ):
        inspect_model_file(source.encode(), "BadKnobs")


def test_an_import_that_hangs_times_out() -> None:
    started = time.monotonic()
    with pytest.raises(ModelInspectionError) as caught:
        inspect("import_hangs.py", "Anything", timeout=2)
    assert str(caught.value) == "importing the model file did not finish within 2 s"
    assert time.monotonic() - started < 5
    assert_no_child_left()


def test_a_file_that_exits_or_crashes_at_import_is_an_error() -> None:
    with pytest.raises(ModelInspectionError, match=r"raised SystemExit: 3"):
        inspect_model_file(b"import sys\nsys.exit(3)\n", "M")
    with pytest.raises(ModelInspectionError, match=r"exit code 0"):
        inspect_model_file(b"import os\nos._exit(0)\n", "M")
    with pytest.raises(ModelInspectionError, match=r"crashed the process \(SIGSEGV\)"):
        inspect_model_file(b"import ctypes\nctypes.string_at(0)\n", "M")
    assert_no_child_left()


def test_the_file_cannot_see_the_parent_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_KEY", "k3y-4711")
    source = (
        MODELS.joinpath("knob_config_raises.py")
        .read_text()
        .replace(
            'raise ValueError("layers must be positive")',
            'import os; raise ValueError(os.environ.get("SECRET_KEY", "absent"))',
        )
    )
    with pytest.raises(ModelInspectionError, match=r"raised ValueError: absent$"):
        inspect_model_file(source.encode(), "BadKnobs")


@pytest.mark.skipif(
    __import__("rafiki.runner.limits", fromlist=["bwrap_path"]).bwrap_path() is None,
    reason="bubblewrap not installed/usable: the private /tmp only exists in the sandbox",
)
def test_an_interpreter_under_tmp_stays_visible_in_the_sandbox(tmp_path):
    # A CI clone or a throwaway virtualenv can live under /tmp, which the sandbox replaces.
    import os
    import sys

    from rafiki.runner.limits import Limits, sandbox_argv

    venv = tmp_path / "venv"
    os.makedirs(venv / "bin")
    os.symlink(os.path.realpath(sys.executable), venv / "bin" / "python")
    work = tmp_path / "work"
    work.mkdir()
    argv = sandbox_argv(
        [str(venv / "bin" / "python"), "-c", "print('alive')"],
        Limits(sandbox="bwrap"),
        writable_dirs=[str(work)],
    )
    import subprocess

    out = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "alive"
