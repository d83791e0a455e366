"""A tabular classifier with scikit-learn: Gaussian naive Bayes on standardised features.

Train args: ``features`` (column names; default all but the last) and ``target`` (default the
last column). A query is a dict of feature -> value; a prediction the class probabilities.

    python examples/models/tabular_classification/SkGaussianNB.py --MODEL_TRIAL_COUNT=3
"""

import argparse
import json
import os

import numpy as np
from sklearn.naive_bayes import GaussianNB

from rafiki.constants import BudgetOption, ModelDependency
from rafiki.model import BaseModel, CategoricalKnob, FloatKnob, logger, utils
from rafiki.model.dev import test_model_class


class SkGaussianNB(BaseModel):
    @staticmethod
    def get_knob_config():
        return {
            "var_smoothing": FloatKnob(1e-12, 1e-1, is_exp=True),
            "standardise": CategoricalKnob([True, False]),
        }

    def __init__(self, **knobs):
        super().__init__(**knobs)
        self.__dict__.update(knobs)
        self._clf = None
        self._features = None
        self._mean = None
        self._scale = None

    def _matrix(self, X):
        X = np.asarray(X, dtype=np.float64)
        return (X - self._mean) / self._scale if self.standardise else X

    def train(self, dataset_path, shared_params=None, features=None, target=None, **train_args):
        data = utils.dataset.load_dataset_of_tabular(dataset_path, features=features, target=target)
        self._features = data.features
        self._mean = np.nanmean(data.X, axis=0)
        self._scale = np.nanstd(data.X, axis=0) + 1e-12
        self._clf = GaussianNB(var_smoothing=self.var_smoothing).fit(self._matrix(data.X), data.y)
        logger.log(
            f"Trained on {data.size} rows, features {self._features}, target {data.target!r}"
        )

    def evaluate(self, dataset_path):
        data = utils.dataset.load_dataset_of_tabular(dataset_path, features=self._features)
        accuracy = float(self._clf.score(self._matrix(data.X), data.y))
        logger.log(accuracy=accuracy)
        return accuracy

    def predict(self, queries):
        X = [[query[name] for name in self._features] for query in queries]
        probs = self._clf.predict_proba(self._matrix(X))
        out = np.zeros((len(queries), int(self._clf.classes_.max()) + 1))
        out[:, self._clf.classes_.astype(int)] = probs
        return out.tolist()

    def dump_parameters(self):
        return {
            "theta": self._clf.theta_,
            "var": self._clf.var_,
            "class_prior": self._clf.class_prior_,
            "classes": self._clf.classes_,
            "mean": self._mean,
            "scale": self._scale,
            "features": json.dumps(self._features),
        }

    def load_parameters(self, params):
        self._clf = GaussianNB(var_smoothing=self.var_smoothing)
        self._clf.theta_ = params["theta"]
        self._clf.var_ = params["var"]
        self._clf.class_prior_ = params["class_prior"]
        self._clf.classes_ = params["classes"]
        self._mean = params["mean"]
        self._scale = params["scale"]
        self._features = json.loads(params["features"])


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", default=os.path.join(here, "..", "..", "data"))
    (args, _) = parser.parse_known_args()
    import sys

    sys.path.insert(0, os.path.join(here, "..", ".."))
    from datasets.tabular import build_iris  # writes iris (shipped with scikit-learn) as csv

    paths = build_iris(args.data_dir)
    queries = utils.dataset.load_dataset_of_tabular(paths["test"]).feature_dicts()[:3]
    test_model_class(
        model_file_path=__file__,
        model_class="SkGaussianNB",
        task="TABULAR_CLASSIFICATION",
        dependencies={ModelDependency.SCIKIT_LEARN: "1.4.0"},
        train_dataset_path=paths["train"],
        val_dataset_path=paths["val"],
        test_dataset_path=paths["test"],
        budget={BudgetOption.MODEL_TRIAL_COUNT: 5},
        queries=queries,
    )
