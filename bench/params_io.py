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

from rafiki.model.params import load_params, save_params


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
    # The floor: the arrays' bytes written straight from memory and read straight into new
    # arrays, with no header, no checks and no format.
    with open(path, "wb") as f:
        for v in params.values():
            if isinstance(v, np.ndarray):
                f.write(v.reshape(-1).view(np.uint8))
    with open(path, "rb") as f:
        for v in params.values():
            if isinstance(v, np.ndarray):
                out = np.empty_like(v)
                f.readinto(out.reshape(-1).view(np.uint8))


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


# Peak resident memory, in fresh processes: saving (the model's params are in memory) and
# loading (as a worker that serves the trial does). Arrays are made with np.full so that
# making them needs no temporaries.
SAVE_CHILD = """
import resource, sys, numpy as np
sys.path.insert(0, {root!r})
from rafiki.model.params import save_params
n = {mb} * 1024 * 1024 // 4
params = {{f"layer{{i}}": np.full(s, 0.5, dtype=np.float32) for i, s in enumerate([n // 2, n // 4, n - n // 2 - n // 4])}}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
save_params(params, {path!r})
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
LOAD_CHILD = """
import resource, sys, numpy as np
sys.path.insert(0, {root!r})
from rafiki.model.params import load_params
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
params = load_params({path!r})
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def child_rss(code: str, **fmt) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", code.format(**fmt)], capture_output=True, text=True, check=True
    )
    before, after = out.stdout.split()
    return int(before) * 1024, int(after) * 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        path = os.path.join(tmp, "params.rfp")
        # Memory first: a child inherits its parent's peak RSS at fork, so the children are
        # started while this process is still small.
        save_before, save_peak = child_rss(SAVE_CHILD, root=ROOT, mb=args.mb, path=path)
        load_before, load_peak = child_rss(LOAD_CHILD, root=ROOT, path=path)
        os.remove(path)
        params = make_params(args.mb)
        nbytes = sum(v.nbytes for v in params.values() if isinstance(v, np.ndarray))
        t_plain = best_of(plain_copy, params, path)
        t_ours = best_of(ours, params, path)
    mb = nbytes / 2**20
    print(
        f"params: {mb:.0f} MB of float32 in {sum(isinstance(v, np.ndarray) for v in params.values())} arrays"
    )
    print(f"plain write+read of the same bytes: {t_plain * 1000:.0f} ms ({mb / t_plain:.0f} MB/s)")
    print(f"save_params+load_params:            {t_ours * 1000:.0f} ms ({mb / t_ours:.0f} MB/s)")
    print(f"speed ratio (plain time / ours): {t_plain / t_ours:.2f}  (goal >= 0.5)")
    # The interpreter's own memory (numpy imported) is left out: it is there without params.
    base = load_before
    save_x = (save_peak - base) / nbytes
    load_x = (load_peak - base) / nbytes
    print(
        f"peak memory while saving (params in memory): {save_x:.2f}x the params; "
        f"saving itself added {(save_peak - save_before) / 2**20:.0f} MB"
    )
    print(f"peak memory while loading: {load_x:.2f}x the params (goal <= 2x)")


if __name__ == "__main__":
    main()
