"""A well-behaved model: logs a plot and metrics, uses shared params and train args."""

import numpy as np

from rafiki.model import BaseModel, FloatKnob, IntegerKnob, utils


class Good(BaseModel):
    @staticmethod
    def get_knob_config():
        return {"epochs": IntegerKnob(1, 5), "lr": FloatKnob(1e-3, 1e-1, is_exp=True)}

    def __init__(self, **knobs):
        super().__init__(**knobs)
        self.epochs = knobs["epochs"]
        self.lr = knobs["lr"]
        self.w = np.zeros(3)

    def train(self, dataset_path, shared_params=None, **train_args):
        if shared_params is not None:
            self.w = shared_params["w"].copy()
            utils.logger.log(f"got shared params {self.w.tolist()}")
        utils.logger.log(f"train args {sorted(train_args.items())}")
        utils.logger.define_loss_plot()
        for epoch in range(self.epochs):
            self.w += self.lr
            utils.logger.log_loss(loss=1.0 / (epoch + 1), epoch=epoch)
        print("trained on", dataset_path)

    def evaluate(self, dataset_path):
        return np.float32(0.5) + self.lr  # numpy scalars are fine

    def predict(self, queries):
        return [0 for _ in queries]

    def dump_parameters(self):
        return {"w": self.w, "epochs": self.epochs, "name": "good"}

    def load_parameters(self, params):
        self.w = params["w"]
