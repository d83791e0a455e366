"""What one trial costs the runner itself, apart from the model's own work.

Runs a no-op model N times through ``run_trial`` (with and without bubblewrap when it is
available; cold start and warm start from the zygote) and prints medians of: a bare
interpreter start, the child's imports (the SDK, numpy), and the whole trial as the parent
sees it (spawn, imports, outputs, validation), cold and warm side by side.

    .venv/bin/python bench/runner_overhead.py [N]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rafiki.runner import Limits, run_trial
from rafiki.runner.limits import bwrap_path, child_env
from rafiki.runner.zygote import stop_zygote

NOOP_MODEL = b"""
from rafiki.model import BaseModel

class Noop(BaseModel):
    @staticmethod
    def get_knob_config():
        return {}
    def train(self, dataset_path, **kwargs):
        pass
    def evaluate(self, dataset_path):
        return 1.0
    def predict(self, queries):
        return queries
    def dump_parameters(self):
        return {"x": 1}
    def load_parameters(self, params):
        pass
"""


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    python = sys.executable
    modes = ["none"] + (["bwrap"] if bwrap_path() else [])
    variants = [f"{m}-{w}" for m in modes for w in ("cold", "warm")]
    samples: dict[str, list[float]] = {k: [] for k in ["bare", "child", *variants]}
    first_warm: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "noop.py"
        model.write_bytes(NOOP_MODEL)

        def spec(work: str) -> dict:
            return {
                "model_file": str(model), "model_class": "Noop", "knobs": {},
                "train_dataset_path": tmp, "val_dataset_path": tmp, "train_args": {},
                "shared_params_path": None, "events_path": f"{work}/events.jsonl",
                "result_path": f"{work}/result.json", "params_path": f"{work}/params.rafiki",
            }  # fmt: skip

        # Interleaved, so that load from other processes affects every variant alike.
        for i in range(n):
            started = time.perf_counter()
            subprocess.run([python, "-c", "pass"], check=True)
            samples["bare"].append(time.perf_counter() - started)

            work = f"{tmp}/child-{i}"
            os.makedirs(work)
            spec_path = f"{work}/spec.json"
            Path(spec_path).write_text(json.dumps(spec(work)))
            env = child_env(Limits(), work)
            started = time.perf_counter()
            subprocess.run(
                [python, "-P", "-m", "rafiki.runner.trial", spec_path], cwd=work, env=env,
                check=True,
            )  # fmt: skip
            samples["child"].append(time.perf_counter() - started)

        # Cold and warm interleaved within each sandbox mode; the modes one after the other,
        # since a worker keeps one zygote (for one sandbox mode / thread count / roots).
        for mode in modes:
            for i in range(n):
                for warm in (False, True):
                    # One trials root per variant: a warm zygote serves trials under its root.
                    work = f"{tmp}/trials-{mode}-{warm}/{i}"
                    limits = Limits(wall_seconds=30, memory_mb=1024, sandbox=mode, warm_start=warm)
                    started = time.perf_counter()
                    outcome = run_trial(spec(work), work, limits)
                    elapsed = time.perf_counter() - started
                    assert outcome.status == "COMPLETED", outcome
                    if warm and i == 0:
                        first_warm[mode] = elapsed  # starts the zygote: not a sample
                    else:
                        samples[f"{mode}-{'warm' if warm else 'cold'}"].append(elapsed)

    med = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    print(f"trials: {n} of each (medians; warm: the {n - 1} after the one that starts the zygote)")
    print(f"bare interpreter start                    {med['bare']:7.1f} ms")
    print(f"trial child alone (python + SDK + model)  {med['child']:7.1f} ms")
    for mode in modes:
        cold, warm = med[f"{mode}-cold"], med[f"{mode}-warm"]
        print(
            f"run_trial, sandbox={mode:<6} cold {cold:7.1f} ms   warm {warm:7.1f} ms"
            f"   cold/warm {cold / warm:5.1f}x   (first warm trial, zygote start:"
            f" {first_warm[mode] * 1000:.0f} ms)"
        )
    stop_zygote()


if __name__ == "__main__":
    main()
