"""Train job and trial pages: create, list, detail (progress, table, charts), stop, live log,
charts per defined plot, downloads; and the home page."""

from __future__ import annotations

import json
import pickle
import re

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.trials.models import TrainJob, Trial
from rafiki.model.params import load_params
from tests.conftest import TOY_TASK
from tests.pages.conftest import add_logs, add_trial, signed_in


def _figures(page: str, element_id: str):
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.DOTALL
    )
    assert match, f"no {element_id} in the page"
    return json.loads(match.group(1))


# --- create ---------------------------------------------------------------------------------


def test_create_form_offers_datasets_and_models_tagged_with_their_task(
    alice_client, make_model, make_dataset
):
    model = make_model()
    dataset = make_dataset(name="train")
    page = alice_client.get("/jobs/new").content.decode()
    # Each element on its own: a dataset option and a model checkbox may share a pk.
    dataset_option = rf'<option value="{dataset.pk}" data-task="{TOY_TASK}"'
    model_box = (
        rf'<input type="checkbox" name="models" value="{model.pk}"[^>]* data-task="{TOY_TASK}"'
    )
    assert re.search(dataset_option, page), page
    assert re.search(model_box, page), page
    assert 'name="time_hours" value="0.1"' in page  # the budget defaults
    assert 'name="model_trial_count" value="-1"' in page and 'name="gpu_count" value="0"' in page
    assert (
        f'<option value="{TOY_TASK}" selected>' in page
    )  # starts on a task that has data and a model


def _job_form(model, train, val, **overrides):
    return {
        "app": "digits",
        "task": TOY_TASK,
        "train_dataset": train.pk,
        "val_dataset": val.pk,
        "models": [model.pk],
        "model_trial_count": 2,
        "time_hours": 0.5,
        "gpu_count": 0,
        "train_args": '{"log_lines": 2}',
        **overrides,
    }


def test_creating_a_job_starts_it_and_opens_its_page(
    alice_client, make_model, make_dataset, django_capture_on_commit_callbacks
):
    model, train, val = make_model(), make_dataset(name="train"), make_dataset(name="val")
    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post("/jobs/new", _job_form(model, train, val))
    job = TrainJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert job.budget == {"MODEL_TRIAL_COUNT": 2, "TIME_HOURS": 0.5, "GPU_COUNT": 0}
    assert job.train_args == {"log_lines": 2}
    assert callbacks, "the job's scheduling was not queued"
    page = alice_client.get(response["Location"]).content.decode()
    assert "digits" in page and "v1" in page and "Stop job" in page
    assert "Trials run on CPU" in page


def test_train_args_must_be_a_json_object(alice_client, make_model, make_dataset):
    model, train, val = make_model(), make_dataset(name="train"), make_dataset(name="val")
    response = alice_client.post("/jobs/new", _job_form(model, train, val, train_args="{epochs: 3"))
    assert b"Not valid JSON" in response.content
    response = alice_client.post("/jobs/new", _job_form(model, train, val, train_args="[1, 2]"))
    assert b"must be a JSON object" in response.content
    assert not TrainJob.objects.exists()


def test_a_dataset_of_another_task_is_refused_on_the_form(alice_client, make_model, make_dataset):
    model, train = make_model(), make_dataset(name="train")
    other = make_dataset(name="other", task="ANOTHER_TASK")
    response = alice_client.post("/jobs/new", _job_form(model, train, other))
    assert b"is a ANOTHER_TASK dataset, not TOY_TASK" in response.content
    assert not TrainJob.objects.exists()


def test_another_users_dataset_cannot_be_chosen(
    alice, carol, carol_client, make_model, make_dataset
):
    public = make_model(owner=alice, access_right="PUBLIC")
    alices = make_dataset(owner=alice, name="alices")
    mine = make_dataset(owner=carol, name="mine")
    page = carol_client.get("/jobs/new").content.decode()
    assert "alices" not in page and "mine" in page
    response = carol_client.post("/jobs/new", _job_form(public, alices, mine))
    assert b"Select a valid choice" in response.content
    assert not TrainJob.objects.exists()


def test_a_zero_trial_budget_is_refused(alice_client, make_model, make_dataset):
    model, train, val = make_model(), make_dataset(name="train"), make_dataset(name="val")
    response = alice_client.post("/jobs/new", _job_form(model, train, val, model_trial_count=0))
    assert b"Use -1 (unlimited) or at least 1." in response.content


# --- job pages ------------------------------------------------------------------------------


def test_job_list_shows_status_and_progress(alice_client, job_with_trials):
    job = job_with_trials(budget={"MODEL_TRIAL_COUNT": 10})
    page = alice_client.get("/jobs/").content.decode()
    assert f'href="/jobs/{job.pk}/"' in page and "RUNNING" in page
    assert ">3/10</td>" in page  # 2 completed + 1 errored of 10


def test_job_page_shows_progress_table_charts_and_best_params(alice_client, job_with_trials):
    job = job_with_trials(budget={"MODEL_TRIAL_COUNT": 10, "TIME_HOURS": 1})
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "3 of 10 done" in page  # 2 completed + 1 errored of 10 trials
    assert page.count('href="/trials/') >= 4
    assert "ValueError" not in page  # tracebacks stay on the trial page
    assert f'href="/jobs/{job.pk}/best-params"' in page
    score = _figures(page, "score-figure")
    traces = {trace["name"]: trace for trace in score["data"]}
    assert traces["trial score"]["y"] == [0.5, 0.9]  # every completed trial
    assert traces["best so far"]["y"][-1] == 0.9  # best so far ends at the best
    knobs = _figures(page, "knobs-figure")
    labels = [d["label"] for d in knobs["data"][0]["dimensions"]]
    assert labels == ["x", "score"]  # "name" never varies, so it has no axis
    assert "vendor/plotly.min.js" in page and "js/job.js" in page


def test_trials_table_sorts_by_score(alice_client, job_with_trials):
    job = job_with_trials()
    page = alice_client.get(f"/jobs/{job.pk}/", {"sort": "-score"}).content.decode()
    table = page[page.index('id="trials"') :]
    numbers = re.findall(r'href="/trials/\d+/">(\d+)</a>', table)
    assert numbers[:2] == ["2", "1"]
    ascending = alice_client.get(f"/jobs/{job.pk}/", {"sort": "score"}).content.decode()
    numbers = re.findall(
        r'href="/trials/\d+/">(\d+)</a>', ascending[ascending.index('id="trials"') :]
    )
    assert numbers[-2:] == ["1", "2"]


def test_trials_table_is_paginated(alice_client, make_job):
    job = make_job()
    Trial.objects.bulk_create(
        Trial(job=job, sub_job=job.sub_jobs.first(), number=n, knobs={"x": n})
        for n in range(1, 121)
    )
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Page 1 of 3" in page and "120 in all" in page
    last = alice_client.get(f"/jobs/{job.pk}/", {"page": 3}).content.decode()
    assert 'href="/trials/' in last and ">120</a>" in last


def test_job_page_without_trials_says_what_happens_next(alice_client, make_job):
    job = make_job()
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "No trials yet" in page and "No completed trial yet" in page
    assert "Download best parameters" in page and 'id="best-params"' not in page  # disabled


def test_best_params_download_loads_with_the_sdk(alice_client, job_with_trials, tmp_path):
    job = job_with_trials()
    response = alice_client.get(f"/jobs/{job.pk}/best-params")
    assert response.status_code == 200
    assert "trial-2-params.rafiki" in response["Content-Disposition"]
    path = tmp_path / "best.rafiki"
    path.write_bytes(b"".join(response.streaming_content))
    params = load_params(str(path))
    assert params["x"] == 900 and np.array_equal(params["w"], np.arange(3.0) * 900)


def test_best_params_is_404_before_any_trial_saved_them(alice_client, make_job):
    assert alice_client.get(f"/jobs/{make_job().pk}/best-params").status_code == 404


def test_stop_button_stops_the_job(alice_client, job_with_trials):
    job = job_with_trials()
    assert alice_client.get(f"/jobs/{job.pk}/stop").status_code == 405
    response = alice_client.post(f"/jobs/{job.pk}/stop", follow=True)
    job.refresh_from_db()
    assert job.status == TrainJob.Status.STOPPED
    assert Trial.objects.get(job=job, number=4).end_reason == "CANCELLED"
    assert b"Stopped" in response.content and b"Stop job" not in response.content


def test_job_status_partial_reports_progress(alice_client, job_with_trials):
    job = job_with_trials()
    data = alice_client.get(f"/jobs/{job.pk}/status").json()
    assert data["final"] is False and "RUNNING" in data["html"]
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'data-signature="{data["signature"]}"' in page
    Trial.objects.filter(job=job, number=4).update(status=Trial.Status.RUNNING)  # a trial starts
    assert alice_client.get(f"/jobs/{job.pk}/status").json()["signature"] != data["signature"]


def test_another_users_job_and_its_trials_are_404(alice, carol_client, job_with_trials):
    job = job_with_trials()
    trial = job.trials.get(number=1)
    for url in [
        f"/jobs/{job.pk}/", f"/jobs/{job.pk}/status", f"/jobs/{job.pk}/best-params",
        f"/trials/{trial.pk}/", f"/trials/{trial.pk}/live", f"/trials/{trial.pk}/log",
        f"/trials/{trial.pk}/params", f"/trials/{trial.pk}/params.pickle",
    ]:  # fmt: skip
        assert carol_client.get(url).status_code == 404, url
    assert carol_client.post(f"/jobs/{job.pk}/stop").status_code == 404
    job.refresh_from_db()
    assert job.status == TrainJob.Status.RUNNING


@pytest.mark.parametrize("who", ["admin_user", "superadmin"])
def test_admins_read_and_stop_other_users_jobs_as_in_the_api(who, request, job_with_trials):
    """The pages check access with the API's selectors: admins read everyone's jobs and
    trials, download their parameters and may stop them."""
    admin = request.getfixturevalue(who)
    client = signed_in(admin)
    job = job_with_trials()
    trial = job.trials.get(number=1)
    for url in [
        f"/jobs/{job.pk}/", f"/jobs/{job.pk}/status", f"/jobs/{job.pk}/best-params",
        f"/trials/{trial.pk}/", f"/trials/{trial.pk}/live", f"/trials/{trial.pk}/log",
        f"/trials/{trial.pk}/params", f"/trials/{trial.pk}/params.pickle",
    ]:  # fmt: skip
        assert client.get(url).status_code == 200, url
    # The same rule as the API's.
    assert client.get(f"/api/train-jobs/{job.pk}/").status_code == 200
    assert client.get(f"/api/trials/{trial.pk}/").status_code == 200
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert job.owner.email in page  # whose job it is
    # The owner's datasets are not the admin's to open: named, not linked.
    assert f'href="/datasets/{job.train_dataset_id}/"' not in page
    assert client.post(f"/jobs/{job.pk}/stop").status_code == 302
    job.refresh_from_db()
    assert job.status == TrainJob.Status.STOPPED


def test_admins_list_everyones_jobs_on_request(admin_user, alice, job_with_trials):
    job = job_with_trials()
    client = signed_in(admin_user)
    mine = client.get("/jobs/").content.decode()
    assert f'href="/jobs/{job.pk}/"' not in mine and "All users" in mine
    everyone = client.get("/jobs/?owner=all").content.decode()
    assert f'href="/jobs/{job.pk}/"' in everyone and alice.email in everyone


def test_other_users_may_not_list_everyones_jobs(carol_client, job_with_trials):
    job = job_with_trials()
    page = carol_client.get("/jobs/?owner=all").content.decode()
    assert f'href="/jobs/{job.pk}/"' not in page and "All users" not in page


# --- trial pages ----------------------------------------------------------------------------


def test_trial_page_shows_knobs_score_log_and_one_chart_per_plot(alice_client, job_with_trials):
    job = job_with_trials()
    trial = job.trials.get(number=1)
    add_logs(trial, [{"type": "PLOT", "title": "Accuracy", "metrics": ["acc"], "x_axis": None},
                     {"type": "METRICS", "acc": 0.7}])  # fmt: skip
    page = alice_client.get(f"/trials/{trial.pk}/").content.decode()
    assert "COMPLETED" in page and "0.5" in page
    assert "starting to train" in page and "done training" in page
    figures = _figures(page, "plot-figures")
    assert [f["layout"]["title"]["text"] for f in figures] == ["Loss", "Accuracy"]
    loss = figures[0]
    assert loss["data"][0]["x"] == [0, 1, 2] and loss["data"][0]["y"] == [0.9, 0.5, 0.25]
    assert loss["layout"]["xaxis"]["title"]["text"] == "epoch"
    accuracy = figures[1]
    assert accuracy["layout"]["xaxis"]["type"] == "date"  # no x_axis: plotted against time
    assert accuracy["data"][0]["y"] == [0.7]
    assert f'href="/trials/{trial.pk}/params"' in page and "params.pickle" in page


def test_failed_trial_shows_its_traceback(alice_client, job_with_trials):
    trial = job_with_trials().trials.get(number=3)
    page = alice_client.get(f"/trials/{trial.pk}/").content.decode()
    assert "ERRORED" in page and "EXCEPTION" in page
    assert 'id="traceback"' in page and "ValueError: x=950 is too large" in page
    assert "Download parameters" not in page


def test_live_endpoint_returns_only_what_is_new_after_the_cursor(alice_client, job_with_trials):
    trial = job_with_trials().trials.get(number=1)
    Trial.objects.filter(pk=trial.pk).update(status=Trial.Status.RUNNING, score=None)
    page = alice_client.get(f"/trials/{trial.pk}/").content.decode()
    live = _figures(page, "trial-live")
    assert live["final"] is False

    nothing = alice_client.get(
        f"/trials/{trial.pk}/live", {"after": live["cursor"], "plots": 1}
    ).json()
    assert (
        nothing["cursor"] == live["cursor"]
        and nothing["messages_html"] == ""
        and nothing["extend"] == []
    )

    add_logs(trial, [
        {"type": "MESSAGE", "message": "epoch 3 <done>"},
        {"type": "METRICS", "loss": 0.1, "epoch": 3},
        {"type": "PLOT", "title": "Accuracy", "metrics": ["acc"], "x_axis": "epoch"},
        {"type": "METRICS", "acc": 0.8, "epoch": 3},
    ])  # fmt: skip
    data = alice_client.get(
        f"/trials/{trial.pk}/live", {"after": live["cursor"], "plots": 1}
    ).json()
    assert (
        "epoch 3 &lt;done&gt;" in data["messages_html"]
        and "starting to train" not in data["messages_html"]
    )
    assert data["extend"] == [{"x": [[3]], "y": [[0.1]]}]  # the loss chart gets its new point
    assert [f["layout"]["title"]["text"] for f in data["new_figures"]] == ["Accuracy"]
    assert data["new_figures"][0]["data"][0]["y"] == [0.8]
    assert data["cursor"] > live["cursor"]
    again = alice_client.get(
        f"/trials/{trial.pk}/live", {"after": data["cursor"], "plots": 2}
    ).json()
    assert again["messages_html"] == "" and again["new_figures"] == []


def test_live_view_asks_for_a_reload_when_the_trial_was_retried(alice_client, job_with_trials):
    trial = job_with_trials().trials.get(number=1)
    Trial.objects.filter(pk=trial.pk).update(status=Trial.Status.RUNNING, attempt=1)
    live = _figures(alice_client.get(f"/trials/{trial.pk}/").content.decode(), "trial-live")
    same = alice_client.get(
        f"/trials/{trial.pk}/live", {"after": live["cursor"], "attempt": live["attempt"]}
    ).json()
    assert "reload" not in same
    Trial.objects.filter(pk=trial.pk).update(attempt=2)  # a worker was lost; the trial runs again
    retried = alice_client.get(
        f"/trials/{trial.pk}/live", {"after": live["cursor"], "attempt": live["attempt"]}
    ).json()
    assert retried == {"reload": True}


def test_log_tail_and_older_rows_on_demand(alice_client, make_job):
    job = make_job()
    trial = add_trial(job, number=1, status=Trial.Status.RUNNING)
    add_logs(trial, [{"type": "MESSAGE", "message": f"line {i}"} for i in range(450)])
    page = alice_client.get(f"/trials/{trial.pk}/").content.decode()
    assert "line 449" in page and "line 250<" in page and "line 249<" not in page
    assert "Show older messages" in page
    oldest = _figures(page, "trial-live")["oldest"]
    older = alice_client.get(f"/trials/{trial.pk}/log", {"before": oldest}).json()
    assert (
        "line 249<" in older["html"]
        and "line 50<" in older["html"]
        and "line 49<" not in older["html"]
    )
    assert older["has_older"] is True
    oldest_page = alice_client.get(f"/trials/{trial.pk}/log", {"before": older["oldest"]}).json()
    assert "line 0<" in oldest_page["html"] and oldest_page["has_older"] is False


def test_params_downloads_safe_format_and_pickled_dict(alice_client, job_with_trials, tmp_path):
    trial = job_with_trials().trials.get(number=1)
    safe = alice_client.get(f"/trials/{trial.pk}/params")
    path = tmp_path / "p.rafiki"
    path.write_bytes(b"".join(safe.streaming_content))
    assert np.array_equal(load_params(str(path))["w"], np.arange(3.0))
    pickled = alice_client.get(f"/trials/{trial.pk}/params.pickle")
    assert pickled["Content-Type"] == "application/octet-stream"
    params = pickle.loads(pickled.content)
    assert params["x"] == 1 and np.array_equal(params["w"], np.arange(3.0))


def test_params_of_a_trial_without_them_are_404(alice_client, job_with_trials):
    trial = job_with_trials().trials.get(number=3)
    assert alice_client.get(f"/trials/{trial.pk}/params").status_code == 404
    assert alice_client.get(f"/trials/{trial.pk}/params.pickle").status_code == 404


def test_model_file_link_only_for_the_models_owner(
    alice, carol, carol_client, make_model, make_dataset
):
    from apps.trials.services import train_job_create

    public = make_model(owner=alice, access_right="PUBLIC")
    train, val = make_dataset(owner=carol, name="t"), make_dataset(owner=carol, name="v")
    job = train_job_create(
        owner=carol, app="a", task=TOY_TASK, train_dataset=train, val_dataset=val, models=[public]
    )
    trial = add_trial(job, number=1, score=0.1)
    page = carol_client.get(f"/trials/{trial.pk}/").content.decode()
    assert f"/models/{public.pk}/download" not in page


# --- home -----------------------------------------------------------------------------------


def test_home_shows_running_jobs_recent_trials_and_quick_links(alice_client, job_with_trials):
    job = job_with_trials()
    page = alice_client.get("/").content.decode()
    assert 'id="running-jobs"' in page and f'href="/jobs/{job.pk}/"' in page
    assert 'id="recent-trials"' in page and page.count('href="/trials/') >= 3
    for link in ["/models/upload", "/datasets/upload", "/jobs/new"]:
        assert f'href="{link}"' in page


def test_home_for_a_new_user_explains_the_first_steps(alice_client):
    page = alice_client.get("/").content.decode()
    assert "Get started" in page and "Nothing is running" in page and "No trials yet" in page


@pytest.mark.parametrize(
    "url",
    ["/", "/models/", "/datasets/", "/jobs/", "/jobs/new", "/models/upload", "/datasets/upload"],
)
def test_every_page_has_the_nav_bar_and_inference_slot(alice_client, url):
    page = alice_client.get(url).content.decode()
    assert 'class="mainnav"' in page and "Inference" in page and "Log out" in page


def test_uploaded_file_names_are_not_trusted_in_downloads(
    alice_client, make_model, make_dataset, job_with_trials
):
    job = job_with_trials(app="we/ird app")
    response = alice_client.get(f"/jobs/{job.pk}/best-params")
    assert 'filename="we_ird_app-v1-trial-2-params.rafiki"' in response["Content-Disposition"]
    _ = SimpleUploadedFile  # keeps the import used
