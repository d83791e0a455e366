"""The trial runner: a model's trial in a confined subprocess (spec in; events, result and
params out), and the sandboxed check of an uploaded model file. No Django.

- ``run_trial(spec, workdir, limits, *, on_events, on_heartbeat, should_stop) -> TrialOutcome``
- ``inspect_model_file(file_bytes, class_name, *, timeout=20) -> dict``
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: the child processes (``-m rafiki.runner.trial`` and
# ``-m rafiki.runner.inspect``) import this package first and should not pay for, or be
# re-imported by, the parent-side modules.
_EXPORTS = {
    "EndReason": "rafiki.runner.supervise",
    "TrialOutcome": "rafiki.runner.supervise",
    "run_trial": "rafiki.runner.supervise",
    "Limits": "rafiki.runner.limits",
    "ModelInspectionError": "rafiki.runner.inspect",
    "inspect_model_file": "rafiki.runner.inspect",
}

__all__ = [
    "EndReason",
    "Limits",
    "ModelInspectionError",
    "TrialOutcome",
    "inspect_model_file",
    "run_trial",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'rafiki.runner' has no attribute {name!r}")
