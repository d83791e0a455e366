"""Write scikit-learn's bundled iris and diabetes tables as TABULAR csv datasets.

    python examples/datasets/tabular.py --out data/

writes ``iris_{train,val,test}.csv`` (TABULAR_CLASSIFICATION: four measurements, target
``species`` 0=setosa 1=versicolor 2=virginica, split per class) and
``diabetes_{train,val,test}.csv`` (TABULAR_REGRESSION: ten raw baseline variables, target
``progression``, disease progression one year later). Splits are 60/20/20 %; the target is
the last column, so the default train args work. Nothing is downloaded; the output is the
same on every run.
"""

from __future__ import annotations

import argparse
import csv
import os
import re

import numpy as np
from sklearn.datasets import load_diabetes, load_iris

SPLITS = {"train": 0.6, "val": 0.2, "test": 0.2}


def _column_name(name: str) -> str:
    """'sepal length (cm)' -> 'sepal_length_cm'."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _split(n: int, seed: int, strata: np.ndarray | None = None) -> dict[str, np.ndarray]:
    rng = np.random.RandomState(seed)
    groups = (
        [np.arange(n)]
        if strata is None
        else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    )
    parts: dict[str, list[int]] = {name: [] for name in SPLITS}
    for group in groups:
        members = rng.permutation(group)
        n_train = round(len(members) * SPLITS["train"])
        n_val = round(len(members) * SPLITS["val"])
        parts["train"] += members[:n_train].tolist()
        parts["val"] += members[n_train : n_train + n_val].tolist()
        parts["test"] += members[n_train + n_val :].tolist()
    return {name: np.sort(np.asarray(idx)) for name, idx in parts.items()}


def _format(value: float) -> str:
    # Whole numbers without ".0", others with enough digits to round trip the bundled data.
    return str(int(value)) if float(value).is_integer() else format(float(value), ".10g")


def _write_csv(
    path: str, header: list[str], X: np.ndarray, y: np.ndarray, indices: np.ndarray
) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for i in indices:
            writer.writerow([_format(v) for v in X[i]] + [_format(y[i])])


def build_iris(out_dir: str, seed: int = 0) -> dict[str, str]:
    """Write iris as TABULAR_CLASSIFICATION csvs into ``out_dir``; return split -> path."""
    os.makedirs(out_dir, exist_ok=True)
    iris = load_iris()
    header = [_column_name(n) for n in iris.feature_names] + ["species"]
    paths = {}
    for split, indices in _split(len(iris.target), seed, strata=iris.target).items():
        paths[split] = os.path.join(out_dir, f"iris_{split}.csv")
        _write_csv(paths[split], header, iris.data, iris.target, indices)
    return paths


def build_diabetes(out_dir: str, seed: int = 0) -> dict[str, str]:
    """Write diabetes as TABULAR_REGRESSION csvs into ``out_dir``; return split -> path."""
    os.makedirs(out_dir, exist_ok=True)
    diabetes = load_diabetes(scaled=False)
    header = [_column_name(n) for n in diabetes.feature_names] + ["progression"]
    paths = {}
    for split, indices in _split(len(diabetes.target), seed).items():
        paths[split] = os.path.join(out_dir, f"diabetes_{split}.csv")
        _write_csv(paths[split], header, diabetes.data, diabetes.target, indices)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the csv files into")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name, paths in (
        ("iris", build_iris(args.out, args.seed)),
        ("diabetes", build_diabetes(args.out, args.seed)),
    ):
        for split, path in paths.items():
            print(f"{name} {split}: {path}")


if __name__ == "__main__":
    main()
