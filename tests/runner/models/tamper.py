"""A model that tries to leave something behind for the next trial: a mark on numpy and on
the SDK (modules a warm zygote has imported), and a daemon outside its process group."""

import os
import random
import subprocess
import sys

import numpy as np

import rafiki.model
from rafiki.model import BaseModel, utils


class Tamper(BaseModel):
    @staticmethod
    def get_knob_config():
        return {}

    def train(self, dataset_path, daemon_marker=None, **kwargs):
        seen = [
            getattr(np, "_rafiki_tampered", None),
            getattr(rafiki.model, "_rafiki_tampered", None),
            "tamper_state" in sys.modules,
        ]
        utils.logger.log("SEEN " + repr(seen))
        utils.logger.log(f"RANDOM {np.random.randint(2**31)} {random.getrandbits(31)}")
        np._rafiki_tampered = os.getpid()
        rafiki.model._rafiki_tampered = os.getpid()
        sys.modules["tamper_state"] = sys
        if daemon_marker:
            # Its own session: out of the trial's process group, like a daemon.
            subprocess.Popen(
                [sys.executable, "-c", "import time; time.sleep(10**6)", daemon_marker],
                start_new_session=True,
            )

    def evaluate(self, dataset_path):
        return 1.0

    def predict(self, queries):
        return queries

    def dump_parameters(self):
        return {}

    def load_parameters(self, params):
        pass
