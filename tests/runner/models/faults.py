"""One model with every misbehaviour, chosen by the ``fault`` knob (the runner tests run it
with one fault per trial)."""

import ctypes
import json
import os
import subprocess
import sys
import time

import numpy as np

from rafiki.model import BaseModel, CategoricalKnob, utils

FAULTS = [
    "raise",
    "sys_exit",
    "os_exit",
    "spin",
    "sleep",
    "allocate",
    "allocate_gradually",
    "segfault",
    "print_flood",
    "grandchild",
    "env",
    "score_str",
    "score_nan",
    "params_object",
    "params_list_value",
    "result_too_big",
    "result_forged_no_params",
    "destroy_raises",
    "thread_left_running",
    "stderr_flood",
    "sandbox_probe",
]


class Faulty(BaseModel):
    @staticmethod
    def get_knob_config():
        return {"fault": CategoricalKnob(FAULTS)}

    def __init__(self, **knobs):
        super().__init__(**knobs)
        self.fault = knobs["fault"]

    def train(self, dataset_path, **kwargs):
        fault = self.fault
        utils.logger.log(f"fault: {fault}")
        if fault == "raise":
            raise ValueError("learning rate too high for this dataset")
        if fault == "sys_exit":
            sys.exit(3)
        if fault == "os_exit":
            os._exit(0)
        if fault == "spin":
            while True:
                pass
        if fault == "sleep":
            time.sleep(10**6)
        if fault == "allocate":
            self.big = np.ones(10**10)  # 80 GB
        if fault == "allocate_gradually":
            self.chunks = []
            while True:
                self.chunks.append(np.ones(8 * 1024 * 1024))  # 64 MB at a time
        if fault == "segfault":
            ctypes.string_at(0)
        if fault == "print_flood":
            line = "x" * 1023 + "\n"
            for _ in range(100 * 1024):  # 100 MB
                sys.stdout.write(line)
        if fault == "stderr_flood":
            line = "e" * 1023 + "\n"
            for _ in range(20 * 1024):  # 20 MB
                sys.stderr.write(line)
        if fault == "grandchild":
            # The working folder in its command line lets a test find it from outside a pid
            # namespace (under bubblewrap the pid seen here means nothing outside).
            child = subprocess.Popen(
                [sys.executable, "-c", "import time; time.sleep(10**6)", os.getcwd()]
            )
            with open("grandchild.pid", "w") as f:
                f.write(str(child.pid))
            utils.logger.log("started a grandchild")
            time.sleep(10**6)
        if fault == "env":
            utils.logger.log("ENV " + json.dumps(dict(os.environ)))
        if fault == "result_too_big":
            with open("result.json", "w") as f:
                f.write('{"status": "COMPLETED", "score": 1.0, "pad": "' + "p" * 2_000_000 + '"}')
            os._exit(0)
        if fault == "result_forged_no_params":
            with open("result.json", "w") as f:
                f.write('{"status": "COMPLETED", "score": 1.0}')
            os._exit(0)
        if fault == "sandbox_probe":
            utils.logger.log("PROBE " + json.dumps(_probe(**kwargs)))
        if fault == "thread_left_running":
            import threading

            threading.Thread(target=time.sleep, args=(10**6,)).start()  # not a daemon

    def evaluate(self, dataset_path):
        if self.fault == "score_str":
            return "0.9"
        if self.fault == "score_nan":
            return float("nan")
        return 0.5

    def predict(self, queries):
        return queries

    def dump_parameters(self):
        if self.fault == "params_object":
            return object()
        if self.fault == "params_list_value":
            return {"weights": [1, 2, 3]}
        return {"w": np.arange(3.0)}

    def load_parameters(self, params):
        pass

    def destroy(self):
        if self.fault == "destroy_raises":
            raise RuntimeError("could not release the session")


def _probe(port, parent_tmp_file, read_only_dir, host_files=()):
    """What the sandbox lets model code do (reported, not asserted, here)."""
    import socket

    found = {"visible": [path for path in host_files if os.path.exists(path)]}
    try:
        with open("/usr/written-by-model", "w"):
            pass
        found["write_system"] = "ok"
    except OSError as e:
        found["write_system"] = e.errno
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        found["connect"] = "ok"
    except OSError as e:
        found["connect"] = type(e).__name__
    found["parent_tmp_visible"] = os.path.exists(parent_tmp_file)
    try:
        with open(os.path.join(read_only_dir, "written-by-model"), "w"):
            pass
        found["write_outside"] = "ok"
    except OSError as e:
        found["write_outside"] = e.errno
    with open(os.path.join(os.environ["TMPDIR"], "scratch"), "w") as f:
        f.write("temporary files go to the working folder")
    found["write_tmpdir"] = "ok"
    return found
