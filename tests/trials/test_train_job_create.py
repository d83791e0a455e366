import pytest

from apps.models.services import InvalidModelError
from apps.trials.models import TrainJob
from apps.trials.services import InvalidTrainJobError, train_job_create
from tests.conftest import TOY_TASK


@pytest.fixture
def datasets(make_dataset):
    return make_dataset(name="train"), make_dataset(name="val")


def _create(owner, datasets, models, **extra):
    train, val = datasets
    kwargs = {
        "owner": owner,
        "app": "app",
        "task": TOY_TASK,
        "train_dataset": train,
        "val_dataset": val,
        "models": models,
    }
    kwargs.update(extra)
    return train_job_create(**kwargs)


def test_app_version_counts_per_owner_and_app(
    alice, bob, datasets, make_model, make_dataset
) -> None:
    model = make_model(access_right="PUBLIC")
    assert _create(alice, datasets, [model]).app_version == 1
    assert _create(alice, datasets, [model]).app_version == 2
    assert _create(alice, datasets, [model], app="other").app_version == 1
    bobs = (make_dataset(owner=bob, name="t"), make_dataset(owner=bob, name="v"))
    assert _create(bob, bobs, [model]).app_version == 1


def test_one_sub_job_per_model_and_default_budget(alice, datasets, make_model) -> None:
    models = [make_model(name="a"), make_model(name="b")]
    job = _create(alice, datasets, models)
    assert [s.model for s in job.sub_jobs.all()] == models
    assert job.budget == {"MODEL_TRIAL_COUNT": -1, "TIME_HOURS": 0.1, "GPU_COUNT": 0}
    assert job.status == TrainJob.Status.STARTED


def test_scheduling_is_enqueued_after_commit(
    alice, datasets, make_model, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _create(alice, datasets, [make_model()])
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    "budget, message",
    [
        ({"MODEL_TRIAL_COUNT": 0}, "MODEL_TRIAL_COUNT"),
        ({"MODEL_TRIAL_COUNT": -2}, "MODEL_TRIAL_COUNT"),
        ({"MODEL_TRIAL_COUNT": 1.5}, "MODEL_TRIAL_COUNT"),
        ({"MODEL_TRIAL_COUNT": True}, "MODEL_TRIAL_COUNT"),
        ({"TIME_HOURS": 0}, "TIME_HOURS"),
        ({"TIME_HOURS": "soon"}, "TIME_HOURS"),
        ({"GPU_COUNT": -1}, "GPU_COUNT"),
        ({"CPU_COUNT": 2}, "CPU_COUNT"),
    ],
)
def test_bad_budget_is_refused(alice, datasets, make_model, budget, message) -> None:
    model = make_model()
    with pytest.raises(InvalidTrainJobError, match=message):
        _create(alice, datasets, [model], budget=budget)
    assert TrainJob.objects.count() == 0


def test_budget_values_are_normalised(alice, datasets, make_model) -> None:
    job = _create(
        alice, datasets, [make_model()], budget={"MODEL_TRIAL_COUNT": "3", "TIME_HOURS": 1}
    )
    assert job.budget["MODEL_TRIAL_COUNT"] == 3
    assert job.budget["TIME_HOURS"] == 1.0


def test_someone_elses_private_model_cannot_be_used(bob, alice, make_model, make_dataset) -> None:
    private = make_model(owner=alice, access_right="PRIVATE")
    bobs = (make_dataset(owner=bob, name="t"), make_dataset(owner=bob, name="v"))
    with pytest.raises(InvalidModelError, match="not available"):
        _create(bob, bobs, [private])
    public = make_model(owner=alice, name="pub", access_right="PUBLIC")
    assert _create(bob, bobs, [public]).sub_jobs.count() == 1


def test_models_and_datasets_must_match_the_task(
    alice, bob, datasets, make_model, make_dataset
) -> None:
    with pytest.raises(InvalidModelError, match="is for task OTHER"):
        _create(alice, datasets, [make_model(task="OTHER")])
    other_task = make_dataset(name="x", task="OTHER")
    with pytest.raises(InvalidTrainJobError, match="is for task OTHER"):
        _create(alice, (other_task, datasets[1]), [make_model(name="m2")])
    bobs = make_dataset(owner=bob, name="b")
    with pytest.raises(InvalidTrainJobError, match="not yours"):
        _create(alice, (bobs, datasets[1]), [make_model(name="m3")])
    with pytest.raises(InvalidTrainJobError, match="at least one model"):
        _create(alice, datasets, [])


def test_gpu_budget_without_gpu_worker_runs_on_cpu_and_says_so(
    alice, datasets, make_model, monkeypatch
) -> None:
    model = make_model()
    monkeypatch.setattr("apps.trials.services.gpu_worker_available", lambda: False)
    job = _create(alice, datasets, [model], budget={"GPU_COUNT": 1})
    assert job.queue == "rafiki"
    assert "run on CPU" in job.note
    monkeypatch.setattr("apps.trials.services.gpu_worker_available", lambda: True)
    job = _create(alice, datasets, [model], budget={"GPU_COUNT": 1})
    assert job.queue == "gpu" and job.note == ""
