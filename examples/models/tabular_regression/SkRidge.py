"""A tabular regressor with scikit-learn: ridge regression on polynomial features.

Train args: ``features`` and ``target`` as for every TABULAR task. The score is R^2 on the
validation set (higher is better). A query is a dict of feature -> value; a prediction a float.

    python examples/models/tabular_regression/SkRidge.py --MODEL_TRIAL_COUNT=5 --degree=1
"""

import argparse
import json
import os

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.preprocessing import PolynomialFeatures

from rafiki.constants import BudgetOption, ModelDependency
from rafiki.model import BaseModel, FloatKnob, IntegerKnob, logger, utils
from rafiki.model.dev import test_model_class


class SkRidge(BaseModel):
    @staticmethod
    def get_knob_config():
        return {
            "alpha": FloatKnob(1e-4, 100.0, is_exp=True),
            "degree": IntegerKnob(1, 2),
        }

    def __init__(self, **knobs):
        super().__init__(**knobs)
        self.__dict__.update(knobs)
        self._reg = None
        self._features = None

    def _matrix(self, X):
        X = (np.asarray(X, dtype=np.float64) - self._mean) / self._scale
        return PolynomialFeatures(self.degree, include_bias=False).fit_transform(X)

    def train(self, dataset_path, shared_params=None, features=None, target=None, **train_args):
        data = utils.dataset.load_dataset_of_tabular(dataset_path, features=features, target=target)
        self._features = data.features
        self._mean = data.X.mean(axis=0)
        self._scale = data.X.std(axis=0) + 1e-12
        self._reg = Ridge(alpha=self.alpha).fit(self._matrix(data.X), data.y.astype(np.float64))
        logger.log(f"Trained on {data.size} rows with {len(self._features)} features")

    def evaluate(self, dataset_path):
        data = utils.dataset.load_dataset_of_tabular(dataset_path, features=self._features)
        r2 = float(self._reg.score(self._matrix(data.X), data.y.astype(np.float64)))
        logger.log(r2=r2)
        return r2

    def predict(self, queries):
        X = [[query[name] for name in self._features] for query in queries]
        return [float(v) for v in self._reg.predict(self._matrix(X))]

    def dump_parameters(self):
        return {
            "coef": self._reg.coef_,
            "intercept": float(self._reg.intercept_),
            "mean": self._mean,
            "scale": self._scale,
            "features": json.dumps(self._features),
        }

    def load_parameters(self, params):
        self._reg = Ridge(alpha=self.alpha)
        self._reg.coef_ = params["coef"]
        self._reg.intercept_ = params["intercept"]
        self._reg.n_features_in_ = len(params["coef"])
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
    from datasets.tabular import (
        build_diabetes,  # writes diabetes (shipped with scikit-learn) as csv
    )

    paths = build_diabetes(args.data_dir)
    queries = utils.dataset.load_dataset_of_tabular(paths["test"]).feature_dicts()[:3]
    test_model_class(
        model_file_path=__file__,
        model_class="SkRidge",
        task="TABULAR_REGRESSION",
        dependencies={ModelDependency.SCIKIT_LEARN: "1.4.0"},
        train_dataset_path=paths["train"],
        val_dataset_path=paths["val"],
        test_dataset_path=paths["test"],
        budget={BudgetOption.MODEL_TRIAL_COUNT: 5},
        queries=queries,
    )
