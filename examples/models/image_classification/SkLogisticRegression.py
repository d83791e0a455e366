"""An image classifier with scikit-learn: logistic regression on the pixels.

python examples/models/image_classification/SkLogisticRegression.py --MODEL_TRIAL_COUNT=3
"""

import argparse
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

from rafiki.constants import BudgetOption, ModelDependency
from rafiki.model import (
    BaseModel,
    CategoricalKnob,
    FixedKnob,
    FloatKnob,
    IntegerKnob,
    logger,
    utils,
)
from rafiki.model.dev import test_model_class


class SkLogisticRegression(BaseModel):
    """Logistic regression over normalised, resized pixels."""

    @staticmethod
    def get_knob_config():
        return {
            "C": FloatKnob(1e-3, 10.0, is_exp=True),
            "max_iter": IntegerKnob(20, 200),
            "fit_intercept": CategoricalKnob([True, False]),
            "image_size": FixedKnob(8),
        }

    def __init__(self, **knobs):
        super().__init__(**knobs)
        self._knobs = knobs
        self._clf = None
        self._mean = None
        self._std = None

    def _features(self, images):
        images = utils.dataset.transform_images(
            images, image_size=self._knobs["image_size"], mode="L"
        )
        images, _, _ = utils.dataset.normalize_images(images, self._mean, self._std)
        return np.asarray(images, dtype=np.float64).reshape(len(images), -1)

    def train(self, dataset_path, shared_params=None, **train_args):
        dataset = utils.dataset.load_dataset_of_image_files(dataset_path, mode="L")
        (images, classes) = zip(*[(image, image_class) for (image, image_class) in dataset])
        logger.log(f"Loaded {dataset.size} images of {dataset.classes} classes")
        resized = utils.dataset.transform_images(
            images, image_size=self._knobs["image_size"], mode="L"
        )
        _, self._mean, self._std = utils.dataset.normalize_images(resized)
        X = self._features(images)
        self._clf = LogisticRegression(
            C=self._knobs["C"],
            max_iter=self._knobs["max_iter"],
            fit_intercept=self._knobs["fit_intercept"],
        )
        self._clf.fit(X, np.asarray(classes))
        logger.log(train_accuracy=float(self._clf.score(X, np.asarray(classes))))

    def evaluate(self, dataset_path):
        dataset = utils.dataset.load_dataset_of_image_files(dataset_path, mode="L")
        images, classes = dataset.to_arrays()
        accuracy = float(self._clf.score(self._features(images), classes))
        logger.log(val_accuracy=accuracy)
        return accuracy

    def predict(self, queries):
        probs = self._clf.predict_proba(self._features(np.asarray(queries)))
        # One probability per class 0..k-1, even for classes unseen in training.
        out = np.zeros((len(queries), int(self._classes.max()) + 1))
        out[:, self._classes] = probs
        return out.tolist()

    @property
    def _classes(self):
        return self._clf.classes_.astype(np.int64)

    def dump_parameters(self):
        return {
            "coef": self._clf.coef_,
            "intercept": self._clf.intercept_,
            "classes": self._clf.classes_.astype(np.int64),
            "mean": np.asarray(self._mean, dtype=np.float64),
            "std": np.asarray(self._std, dtype=np.float64),
        }

    def load_parameters(self, params):
        self._clf = LogisticRegression(C=self._knobs["C"])
        self._clf.coef_ = params["coef"]
        self._clf.intercept_ = params["intercept"]
        self._clf.classes_ = params["classes"]
        self._mean = params["mean"]
        self._std = params["std"]


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
    queries = test_images[:3].tolist()
    test_model_class(
        model_file_path=__file__,
        model_class="SkLogisticRegression",
        task="IMAGE_CLASSIFICATION",
        dependencies={ModelDependency.SCIKIT_LEARN: "1.4.0"},
        train_dataset_path=paths["train"],
        val_dataset_path=paths["val"],
        test_dataset_path=paths["test"],
        budget={BudgetOption.MODEL_TRIAL_COUNT: 3},
        queries=queries,
    )
