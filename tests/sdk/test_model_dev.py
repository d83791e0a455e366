"""test_model_class end to end on every example model, and its reports of broken models."""

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from rafiki.model import BaseModel, load_model_class
from rafiki.model.dev import ModelContractError, parse_cli_overrides, test_model_class

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))

from datasets.image_digits import build_digits
from datasets.pos_corpus import build_pos_corpus
from datasets.tabular import build_diabetes, build_iris


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("data"))
    return {
        "digits": build_digits(out),
        "iris": build_iris(out),
        "diabetes": build_diabetes(out),
        "pos": build_pos_corpus(out),
    }


@pytest.fixture(autouse=True)
def _no_cli_flags(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["pytest"])


def _digit_queries(path):
    from rafiki.model import utils

    images, _ = utils.dataset.load_dataset_of_image_files(path).to_arrays()
    return images[:4].tolist()


EXAMPLES = [
    ("image_classification/SkLogisticRegression.py", "IMAGE_CLASSIFICATION", "digits", 0.8),
    ("image_classification/NumpyMlp.py", "IMAGE_CLASSIFICATION", "digits", None),
    ("tabular_classification/SkGaussianNB.py", "TABULAR_CLASSIFICATION", "iris", 0.8),
    ("tabular_regression/SkRidge.py", "TABULAR_REGRESSION", "diabetes", 0.2),
    ("pos_tagging/BigramHmm.py", "POS_TAGGING", "pos", 0.9),
]


@pytest.mark.parametrize("file, task, dataset, min_score", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_model_tunes_and_predicts(data, capsys, file, task, dataset, min_score):
    from rafiki.model import utils

    paths = data[dataset]
    if dataset == "digits":
        queries = _digit_queries(paths["test"])
    elif dataset == "pos":
        queries = [["The", "dog", "can", "watch", "the", "light", "."]]
    else:
        queries = utils.dataset.load_dataset_of_tabular(paths["test"]).feature_dicts()[:4]
    predictions, model = test_model_class(
        model_file_path=str(ROOT / "examples" / "models" / file),
        model_class=Path(file).stem,
        task=task,
        dependencies={},
        train_dataset_path=paths["train"],
        val_dataset_path=paths["val"],
        test_dataset_path=paths["test"],
        budget={"MODEL_TRIAL_COUNT": 2},
        queries=queries,
    )
    out = capsys.readouterr().out
    assert "Trial 2 of 2: score" in out and "best so far" in out
    assert isinstance(model, BaseModel)
    assert len(predictions) == len(queries)
    if task in ("IMAGE_CLASSIFICATION", "TABULAR_CLASSIFICATION"):
        assert np.allclose(np.sum(predictions, axis=1), 1.0)
    if task == "POS_TAGGING":
        assert len(predictions[0]) == len(queries[0])
    if min_score is not None:
        best = float(out.split("best score ")[1].split()[0])
        assert best >= min_score


def test_numpy_mlp_logs_a_loss_plot_and_per_epoch_metrics(data, capsys):
    test_model_class(
        str(ROOT / "examples/models/image_classification/NumpyMlp.py"),
        "NumpyMlp",
        "IMAGE_CLASSIFICATION",
        {},
        data["digits"]["train"],
        data["digits"]["val"],
        budget={"MODEL_TRIAL_COUNT": 1},
    )
    out = capsys.readouterr().out
    assert "plot 'Loss Over Epochs': loss against epoch" in out
    assert out.count("loss=") >= 5


def test_cli_flags_set_budget_and_fix_knobs(data, capsys, monkeypatch):
    monkeypatch.setattr(
        sys,
        "argv",
        ["model.py", "--MODEL_TRIAL_COUNT=3", "--degree", "2", "--unknown_flag=1", "--data_dir=/x"],
    )
    test_model_class(
        str(ROOT / "examples/models/tabular_regression/SkRidge.py"),
        "SkRidge",
        "TABULAR_REGRESSION",
        {"definitely-not-installed-pkg": "1.0"},
        data["diabetes"]["train"],
        data["diabetes"]["val"],
        budget={"MODEL_TRIAL_COUNT": 1},
    )
    out = capsys.readouterr().out
    assert "Trial 3 of 3" in out and "Trial 4" not in out
    assert out.count("'degree': 2") >= 3 and "'degree': 1" not in out
    assert "WARNING: dependency definitely-not-installed-pkg==1.0 is not installed" in out


def test_parse_cli_overrides_ignores_unknown_flags():
    budget, knobs = parse_cli_overrides(
        ["--TIME_HOURS=0.01", "--max_depth", "4", "--foo=bar", "positional", "--lr=0.1"],
        ["max_depth", "lr"],
    )
    assert budget == {"TIME_HOURS": "0.01"}
    assert knobs == {"max_depth": "4", "lr": "0.1"}


BROKEN_BASE = """
import numpy as np
from rafiki.model import BaseModel, FloatKnob

class M(BaseModel):
    @staticmethod
    def get_knob_config():
        return {{"x": FloatKnob(0.0, 1.0)}}
    def __init__(self, **knobs):
        super().__init__(**knobs)
        self.x = knobs["x"]
        self.w = None
    def train(self, dataset_path, shared_params=None, **kwargs):
        self.w = np.array([self.x])
    def evaluate(self, dataset_path):
        return {evaluate}
    def predict(self, queries):
        return {predict}
    def dump_parameters(self):
        return {dump}
    def load_parameters(self, params):
        {load}
"""

DEFAULTS = {
    "evaluate": "float(self.w[0])",
    "predict": "[float(self.w[0]) for q in queries]",
    "dump": '{"w": self.w}',
    "load": 'self.w = params["w"]',
}


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"evaluate": '"high"'}, "evaluate() must return a number"),
        ({"evaluate": "float('nan')"}, "evaluate() must return a finite number"),
        (
            {"dump": '{"w": object()}'},
            "dump_parameters() returned invalid parameters: parameter 'w' is a object",
        ),
        (
            {"dump": "[self.w]"},
            "dump_parameters() returned invalid parameters: parameters must be a dict",
        ),
        (
            {"load": "self.w = np.array([2.0])"},
            "load_parameters() does not restore the whole trained state",
        ),
        ({"predict": "float(self.w[0])"}, "predict() of the trained model must return a list"),
        ({"predict": "[1]"}, "returned 1 predictions for 2 queries"),
        ({"evaluate": "1 / 0"}, "evaluate() raised ZeroDivisionError"),
    ],
)
def test_contract_violations_are_reported_as_such(tmp_path, overrides, message):
    path = tmp_path / "m.py"
    path.write_text(BROKEN_BASE.format(**(DEFAULTS | overrides)))
    with pytest.raises(ModelContractError) as info:
        test_model_class(
            str(path),
            "M",
            "CUSTOM",
            {},
            "train",
            "val",
            budget={"MODEL_TRIAL_COUNT": 1},
            queries=[1, 2],
        )
    assert message in str(info.value)


def test_missing_class_and_missing_methods_are_reported(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        textwrap.dedent("""
        from rafiki.model import BaseModel
        class Half(BaseModel):
            @staticmethod
            def get_knob_config():
                return {}
            def train(self, dataset_path, **kwargs):
                pass
    """)
    )
    with pytest.raises(ModelContractError, match="defines no class named 'Nope'"):
        test_model_class(str(path), "Nope", "T", {}, "a", "b")
    with pytest.raises(
        ModelContractError,
        match="does not implement: dump_parameters, evaluate, load_parameters, predict",
    ):
        test_model_class(str(path), "Half", "T", {}, "a", "b")


def test_load_model_class_rejects_non_models():
    with pytest.raises(ImportError, match="does not subclass rafiki.model.BaseModel"):
        load_model_class(b"class X:\n    pass\n", "X")


def test_model_without_super_init_works(tmp_path, capsys):
    path = tmp_path / "m.py"
    path.write_text(BROKEN_BASE.format(**DEFAULTS).replace("super().__init__(**knobs)", "pass"))
    predictions, _model = test_model_class(
        str(path), "M", "T", {}, "a", "b", budget={"MODEL_TRIAL_COUNT": 2}, queries=[0]
    )
    assert len(predictions) == 1 and 0.0 <= predictions[0] <= 1.0


def test_an_old_style_rafiki_model_file_runs_unmodified(data, capsys):
    # Written the way original Rafiki model files are: train() without shared_params,
    # TaskType constants, the module-level `dataset`, a pickled scikit-learn model in a str.
    from rafiki.constants import TaskType

    queries = _digit_queries(data["digits"]["test"])[:2]
    predictions, _ = test_model_class(
        str(Path(__file__).parent / "models" / "old_style_sk_dt.py"),
        "SkDt",
        TaskType.IMAGE_CLASSIFICATION,
        {"scikit-learn": "0.20.0"},
        data["digits"]["train"],
        data["digits"]["val"],
        budget={"MODEL_TRIAL_COUNT": 2},
        queries=queries,
    )
    assert len(predictions) == 2 and abs(sum(predictions[0]) - 1.0) < 1e-6
    assert "Note: dependency scikit-learn is" in capsys.readouterr().out
