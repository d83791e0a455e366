"""Logs a metric every 0.1 s for about 2 s (to see events arrive while it runs)."""

import time

from rafiki.model import BaseModel, FixedKnob, utils


class SlowLogger(BaseModel):
    @staticmethod
    def get_knob_config():
        return {"steps": FixedKnob(20)}

    def __init__(self, **knobs):
        super().__init__(**knobs)
        self.steps = knobs["steps"]

    def train(self, dataset_path, **kwargs):
        for step in range(self.steps):
            utils.logger.log(step=step)
            time.sleep(0.1)

    def evaluate(self, dataset_path):
        return 1.0

    def predict(self, queries):
        return queries

    def dump_parameters(self):
        return {"steps": self.steps}

    def load_parameters(self, params):
        pass
