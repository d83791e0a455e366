from rafiki.model import BaseModel


class BadKnobs(BaseModel):
    @staticmethod
    def get_knob_config():
        raise ValueError("layers must be positive")

    def train(self, dataset_path, **kwargs):
        pass

    def evaluate(self, dataset_path):
        return 0.0

    def predict(self, queries):
        return queries

    def dump_parameters(self):
        return {}

    def load_parameters(self, params):
        pass
