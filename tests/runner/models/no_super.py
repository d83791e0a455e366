"""Sets its knobs itself, never calling BaseModel.__init__; returns a plain int score."""

from rafiki.model import BaseModel, FixedKnob


class NoSuper(BaseModel):
    @staticmethod
    def get_knob_config():
        return {"k": FixedKnob(2)}

    def __init__(self, k):
        self.k = k

    def train(self, dataset_path, **kwargs):
        pass

    def evaluate(self, dataset_path):
        return self.k

    def predict(self, queries):
        return queries

    def dump_parameters(self):
        return {}

    def load_parameters(self, params):
        pass
