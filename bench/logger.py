"""Cost of 100k ``logger.log()`` calls inside a loop, relative to the same loop without them.

The loop does a little numpy work per step (a stand-in for a training step); the logger
writes to a JSON-lines events file, as it does inside a trial on the platform.

    python bench/logger.py [--calls 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from rafiki.model.log import JsonLinesSink, LoggerUtils


def loop(n: int, logger: LoggerUtils | None) -> float:
    x = np.random.default_rng(0).standard_normal(64)
    t = time.perf_counter()
    for i in range(n):
        loss = float(np.dot(x, x)) / (i + 1)  # the "training step"
        if logger is not None:
            logger.log(loss=loss, step=i)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    n = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as tmp:
        sink = JsonLinesSink(os.path.join(tmp, "events.jsonl"))
        logger = LoggerUtils(sink)
        base = min(loop(n, None) for _ in range(3))
        logged = min(loop(n, logger) for _ in range(3))
        msg_logger = LoggerUtils(sink)
        t = time.perf_counter()
        for i in range(n):
            msg_logger.log(f"step {i}")
        messages = time.perf_counter() - t
        sink.close()
    per_call = (logged - base) / n * 1e6
    print(f"{n} steps without logging: {base * 1000:.0f} ms")
    print(
        f"{n} steps with log(loss=, step=): {logged * 1000:.0f} ms  (x{logged / base:.2f} the loop)"
    )
    print(
        f"cost per log() call: {per_call:.2f} us; 100k calls add {(logged - base):.2f} s to a trial"
    )
    print(
        f"{n} log('message') calls alone: {messages * 1000:.0f} ms ({messages / n * 1e6:.2f} us each)"
    )


if __name__ == "__main__":
    main()
