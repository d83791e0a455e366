"""A small neural network (a one-hidden-layer perceptron in numpy) for image classification.

It defines a loss plot and logs the loss and accuracy every epoch, so its trials draw charts.

    python examples/models/image_classification/NumpyMlp.py --MODEL_TRIAL_COUNT=3
"""

import argparse
import os

import numpy as np

from rafiki.constants import BudgetOption
from rafiki.model import (
    BaseModel,
    CategoricalKnob,
    FixedKnob,
    FloatKnob,
    IntegerKnob,
    PolicyKnob,
    logger,
    utils,
)
from rafiki.model.dev import test_model_class


class NumpyMlp(BaseModel):
    """Pixels -> ReLU hidden layer -> softmax, trained with mini-batch gradient descent."""

    @staticmethod
    def get_knob_config():
        return {
            "hidden_units": IntegerKnob(16, 128),
            "learning_rate": FloatKnob(1e-3, 0.5, is_exp=True),
            "batch_size": CategoricalKnob([16, 32, 64]),
            "epochs": FixedKnob(15),
            "image_size": FixedKnob(16),
            "early_stop": PolicyKnob("EARLY_STOP"),
        }

    def __init__(self, **knobs):
        # This model sets its knobs itself instead of calling super().__init__(**knobs).
        self.__dict__.update(knobs)
        self._params = None

    def _inputs(self, images):
        images = utils.dataset.transform_images(images, image_size=self.image_size, mode="L")
        x = np.asarray(images, dtype=np.float32).reshape(len(images), -1) / 255.0
        return x

    def _forward(self, x):
        p = self._params
        hidden = np.maximum(0.0, x @ p["w1"] + p["b1"])
        logits = hidden @ p["w2"] + p["b2"]
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return hidden, probs

    def train(self, dataset_path, shared_params=None, **train_args):
        dataset = utils.dataset.load_dataset_of_image_files(dataset_path, mode="L")
        images, classes = dataset.to_arrays()
        x, y = self._inputs(images), np.asarray(classes)
        k = dataset.classes
        rng = np.random.default_rng(0)
        n_in = x.shape[1]
        self._params = {
            "w1": (rng.standard_normal((n_in, self.hidden_units)) * np.sqrt(2.0 / n_in)).astype(
                np.float32
            ),
            "b1": np.zeros(self.hidden_units, dtype=np.float32),
            "w2": (
                rng.standard_normal((self.hidden_units, k)) * np.sqrt(1.0 / self.hidden_units)
            ).astype(np.float32),
            "b2": np.zeros(k, dtype=np.float32),
        }
        if shared_params:
            self._params.update(
                {name: shared_params[name] for name in self._params if name in shared_params}
            )
        epochs = max(1, self.epochs // 3) if self.early_stop else self.epochs
        logger.define_loss_plot()
        logger.define_plot("Accuracy", ["train_accuracy"], x_axis="epoch")
        logger.log(f"Training on {len(x)} images of {k} classes for {epochs} epochs")
        one_hot = np.eye(k, dtype=np.float32)[y]
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(x))
            losses = []
            for start in range(0, len(x), self.batch_size):
                idx = order[start : start + self.batch_size]
                xb, yb = x[idx], one_hot[idx]
                hidden, probs = self._forward(xb)
                losses.append(float(-np.mean(np.sum(yb * np.log(probs + 1e-9), axis=1))))
                grad_logits = (probs - yb) / len(xb)
                grad_hidden = (grad_logits @ self._params["w2"].T) * (hidden > 0)
                self._params["w2"] -= self.learning_rate * hidden.T @ grad_logits
                self._params["b2"] -= self.learning_rate * grad_logits.sum(axis=0)
                self._params["w1"] -= self.learning_rate * xb.T @ grad_hidden
                self._params["b1"] -= self.learning_rate * grad_hidden.sum(axis=0)
            accuracy = float(np.mean(self._forward(x)[1].argmax(axis=1) == y))
            logger.log_loss(float(np.mean(losses)), epoch)
            logger.log(train_accuracy=accuracy, epoch=epoch)

    def evaluate(self, dataset_path):
        images, classes = utils.dataset.load_dataset_of_image_files(
            dataset_path, mode="L"
        ).to_arrays()
        _, probs = self._forward(self._inputs(images))
        return float(np.mean(probs.argmax(axis=1) == np.asarray(classes)))

    def predict(self, queries):
        _, probs = self._forward(self._inputs(np.asarray(queries)))
        return probs.tolist()

    def dump_parameters(self):
        return {name: value.copy() for name, value in self._params.items()}

    def load_parameters(self, params):
        self._params = {
            name: np.asarray(params[name], dtype=np.float32) for name in ("w1", "b1", "w2", "b2")
        }


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", default=os.path.join(here, "..", "..", "data"))
    (args, _) = parser.parse_known_args()
    import sys

    sys.path.insert(0, os.path.join(here, "..", ".."))
    from datasets.image_digits import (
        build_digits,  # writes the example zips from scikit-learn's digits
    )

    paths = build_digits(args.data_dir)
    test_images, _ = utils.dataset.load_dataset_of_image_files(paths["test"]).to_arrays()
    test_model_class(
        model_file_path=__file__,
        model_class="NumpyMlp",
        task="IMAGE_CLASSIFICATION",
        dependencies={},
        train_dataset_path=paths["train"],
        val_dataset_path=paths["val"],
        test_dataset_path=paths["test"],
        budget={BudgetOption.MODEL_TRIAL_COUNT: 3},
        queries=test_images[:3].tolist(),
    )
