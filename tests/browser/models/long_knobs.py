"""A model with long knob names and values: the layout test checks that pages wrap them."""

import numpy as np

from rafiki.model import (
    ArchKnob,
    BaseModel,
    CategoricalKnob,
    FixedKnob,
    FloatKnob,
    IntegerKnob,
    logger,
)


class LongKnobs(BaseModel):
    @staticmethod
    def get_knob_config():
        return {
            "optimizer_with_a_rather_long_descriptive_name": CategoricalKnob(
                [
                    "adam_with_decoupled_weight_decay_and_warmup",
                    "stochastic_gradient_descent_with_nesterov_momentum",
                    "rmsprop",
                    "adagrad",
                    "adadelta",
                    "lamb",
                    "lars",
                    "novograd",
                    "radam",
                    "lookahead_adam",
                    "sgd",
                    "ftrl",
                ]
            ),
            "architecture": ArchKnob(
                [
                    [16, 32, 64, 128, 256],
                    [16, 32, 64, 128, 256],
                    ["relu", "gelu", "swish", "tanh"],
                    [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
                    [16, 32, 64, 128, 256],
                    ["relu", "gelu", "swish"],
                ]
            ),
            "learning_rate": FloatKnob(1e-5, 1e-1, is_exp=True),
            "epochs": IntegerKnob(1, 3),
            "a_fixed_string_value": FixedKnob(
                "/some/very/long/path/that/a/model/author/might/use/as/a/fixed/knob/value.txt"
            ),
        }

    def __init__(self, **knobs):
        super().__init__(**knobs)
        self.knobs = knobs

    def train(self, dataset_path, shared_params=None, **train_args):
        logger.define_loss_plot()
        for epoch in range(self.knobs["epochs"]):
            logger.log_loss(loss=1.0 / (epoch + 1), epoch=epoch)
        logger.log("a very long log line " * 30)

    def evaluate(self, dataset_path):
        return float(np.random.rand())

    def predict(self, queries):
        return [[0.1] * 10 for _ in queries]

    def dump_parameters(self):
        return {"w": np.zeros(3)}

    def load_parameters(self, params):
        pass
