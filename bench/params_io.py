"""Speed and peak memory of saving + loading 200 MB of float32 parameters.

Prints the save+load throughput as a ratio to the same bytes written to and read back from a
plain file in the same folder (the I/O floor; goal >= 0.5), and the peak memory of a
save+load in a fresh process as a multiple of the parameters' size (goal <= 2).

    python bench/params_io.py [--mb 200]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from rafiki.model.params import load_params, save_params  # noqa: E402


def make_params(mb: int) -> dict:
    rng = np.random.default_rng(0)
    n = mb * 1024 * 1024 // 4
    # Several arrays of uneven sizes, like the layers of a network.
    sizes = [n // 2, n // 4, n // 8, n - n // 2 - n // 4 - n // 8]
    return {f"layer{i}": rng.standard_normal(s, dtype=np.float32) for i, s in enumerate(sizes)} | {
        "name": "bench",
        "epochs": 10,
    }


def plain_copy(params: dict, path: str) -> None:
    with open(path, "wb") as f:
        for v in params.values():
            if isinstance(v, np.ndarray):
                f.write(v.tobytes())
    with open(path, "rb") as f:
        for v in params.values():
            if isinstance(v, np.ndarray):
                np.frombuffer(f.read(v.nbytes), dtype=v.dtype)


def ours(params: dict, path: str) -> None:
    save_params(params, path)
    load_params(path)


def best_of(fn, params, path, repeat=5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(params, path)
        times.append(time.perf_counter() - t)
        os.remove(path)
    return min(times)


PEAK_CHILD = """
import resource, sys, numpy as np
sys.path.insert(0, {root!r})
from rafiki.model.params import save_params, load_params
sys.path.insert(0, {bench!r})
from params_io import make_params
params = make_params({mb})
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
save_params(params, {path!r})
del params
back = load_params({path!r})
print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    params = make_params(args.mb)
    nbytes = sum(v.nbytes for v in params.values() if isinstance(v, np.ndarray))
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        path = os.path.join(tmp, "params.rfp")
        t_plain = best_of(plain_copy, params, path)
        t_ours = best_of(ours, params, path)
        out = subprocess.run(
            [sys.executable, "-c", PEAK_CHILD.format(root=ROOT, bench=os.path.dirname(__file__), mb=args.mb, path=path)],
            capture_output=True, text=True, check=True,
        ).stdout.split()
    base_kb, peak_kb = int(out[0]), int(out[1])
    mb = nbytes / 2**20
    print(f"params: {mb:.0f} MB of float32 in {sum(isinstance(v, np.ndarray) for v in params.values())} arrays")
    print(f"plain write+read of the same bytes: {t_plain * 1000:.0f} ms ({mb / t_plain:.0f} MB/s)")
    print(f"save_params+load_params:            {t_ours * 1000:.0f} ms ({mb / t_ours:.0f} MB/s)")
    print(f"speed ratio (plain time / ours): {t_plain / t_ours:.2f}  (goal >= 0.5)")
    print(
        f"peak memory of make+save+load in a fresh process: {peak_kb / 1024:.0f} MB, "
        f"{peak_kb * 1024 / nbytes:.2f}x the params (goal <= 2x); "
        f"{(peak_kb - base_kb) / 1024:.0f} MB above holding the params once"
    )


if __name__ == "__main__":
    main()
