"""A new user's path through the dashboard in real headless Chromium: sign in, upload a model
and datasets, create a job, watch a trial complete with its chart filling in, open a failed
trial's traceback, download the best parameters and load them with the SDK. Screenshots of
the main pages go to test-output/screenshots/."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.trials.models import TrainJob, Trial
from rafiki.constants import UserType
from rafiki.model.params import load_params
from tests.conftest import FIXTURES, REPO

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NUMPY_MLP = REPO / "examples" / "models" / "image_classification" / "NumpyMlp.py"


@pytest.fixture(scope="module")
def worker(cluster):
    return cluster.worker("browser", concurrency=2)


def _wait(condition, what: str, timeout: float = 60.0, cluster=None):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001  (the page may be mid-navigation: retry)
            last_error = exc
        time.sleep(0.25)
    logs = cluster.log_tails() if cluster is not None else ""
    raise AssertionError(f"timed out waiting for {what} ({last_error})\n{logs}")


def _sign_in(browser, live_server, email: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + "/login/")
    browser.find_element(By.NAME, "username").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    _wait(lambda: browser.current_url.rstrip("/") == live_server.url, "the home page")


def _upload_dataset(browser, live_server, path: str, name: str, task: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + "/datasets/upload")
    browser.find_element(By.NAME, "name").send_keys(name)
    task_input = browser.find_element(By.NAME, "task")
    task_input.clear()
    task_input.send_keys(task)
    browser.find_element(By.NAME, "data_file").send_keys(path)
    browser.find_element(By.CSS_SELECTOR, "#dataset-upload button[type=submit]").click()
    # The XHR upload shows its progress bar, then follows the server's redirect.
    _wait(lambda: "/datasets/" in browser.current_url and browser.current_url.rstrip("/").split("/")[-1].isdigit(),
          f"the page of dataset {name}")  # fmt: skip


def _create_job(
    browser,
    live_server,
    *,
    app: str,
    task: str,
    train: str,
    val: str,
    model: str,
    trials: int,
    train_args: str = "{}",
) -> int:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(live_server.url + "/jobs/new")
    browser.find_element(By.NAME, "app").send_keys(app)
    Select(browser.find_element(By.NAME, "task")).select_by_value(task)
    Select(browser.find_element(By.NAME, "train_dataset")).select_by_visible_text(
        f"{train} · {task}"
    )
    Select(browser.find_element(By.NAME, "val_dataset")).select_by_visible_text(f"{val} · {task}")
    boxes = [b for b in browser.find_elements(By.NAME, "models") if b.is_displayed()]
    labels = [b.find_element(By.XPATH, "..").text for b in boxes]
    assert labels and all(model in label for label in labels), (
        labels
    )  # only this task's models are offered
    for box, label in zip(boxes, labels):
        if model in label:
            box.click()
    count = browser.find_element(By.NAME, "model_trial_count")
    count.clear()
    count.send_keys(str(trials))
    args = browser.find_element(By.NAME, "train_args")
    args.clear()
    args.send_keys(train_args)
    browser.find_element(By.CSS_SELECTOR, "#job-create button[type=submit]").click()
    _wait(
        lambda: (
            "/jobs/" in browser.current_url
            and browser.current_url.rstrip("/").split("/")[-1].isdigit()
        ),
        "the job page",
    )
    return int(browser.current_url.rstrip("/").split("/")[-1])


def test_a_new_user_trains_a_model_and_downloads_the_best_parameters(
    browser, live_server, worker, cluster, download_dir, screenshot
) -> None:
    from selenium.webdriver.common.by import By

    User.objects.create_user("dana@rafiki", "dana-pw", user_type=UserType.MODEL_DEVELOPER)

    browser.get(live_server.url + "/")
    assert "/login/" in browser.current_url
    screenshot("01-login")
    _sign_in(browser, live_server, "dana@rafiki", "dana-pw")
    assert "Get started" in browser.page_source
    screenshot("02-home-new-user")

    # A new user has no datasets yet: the Examples page has them to download. (Its model
    # files download too, but Chrome holds a .py download until the user confirms it, which
    # a test cannot click: the model is uploaded from the repository's copy.)
    browser.find_element(By.LINK_TEXT, "Download example models and datasets").click()
    examples = {
        "/examples/datasets/digits/train": "digits_train.zip",
        "/examples/datasets/digits/val": "digits_val.zip",
    }
    for href in examples:
        browser.find_element(By.CSS_SELECTOR, f"a[href='{href}']").click()
    files = {name: download_dir / name for name in examples.values()}
    _wait(
        lambda: (
            all(p.exists() for p in files.values()) and not list(download_dir.glob("*.crdownload"))
        ),
        "the example downloads",
    )
    screenshot("02b-examples")

    # Upload the example model: the knob table and the highlighted source appear.
    browser.get(live_server.url + "/models/upload")
    browser.find_element(By.NAME, "model_file").send_keys(str(NUMPY_MLP))
    browser.find_element(By.NAME, "dependencies").send_keys("numpy==1.26")
    screenshot("03-model-upload")
    browser.find_element(By.CSS_SELECTOR, "#model-upload button[type=submit]").click()
    _wait(lambda: browser.find_elements(By.ID, "knobs"), "the model page")
    knobs = browser.find_element(By.ID, "knobs").text
    assert "learning_rate" in knobs and "hidden_units" in knobs
    assert browser.find_elements(By.CSS_SELECTOR, ".source .highlight")
    screenshot("04-model-detail")

    # A broken file shows the reason on the form.
    browser.get(live_server.url + "/models/upload")
    browser.find_element(By.NAME, "model_file").send_keys(
        str(REPO / "tests" / "runner" / "models" / "syntax_error.py.txt")
    )
    browser.find_element(By.NAME, "model_class").send_keys("Broken")
    browser.find_element(By.CSS_SELECTOR, "#model-upload button[type=submit]").click()
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, ".alert-error"), "the upload error")
    assert "invalid model file" in browser.find_element(By.CSS_SELECTOR, ".alert-error").text
    screenshot("05-model-upload-error")

    # A bad dataset through the XHR upload: the validator's reason shows on the form.
    bad_zip = Path(download_dir) / "bad.zip"
    bad_zip.write_bytes(b"this is not a zip archive")
    browser.get(live_server.url + "/datasets/upload")
    browser.find_element(By.NAME, "data_file").send_keys(str(bad_zip))
    browser.find_element(By.CSS_SELECTOR, "#dataset-upload button[type=submit]").click()
    error = _wait(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#upload-card .alert-error"),
        "the dataset error",
    )
    assert "not a valid zip archive" in error[0].text
    assert browser.current_url.endswith("/datasets/upload")

    train_zip = str(files["digits_train.zip"])
    _upload_dataset(browser, live_server, train_zip, "digits-train", "IMAGE_CLASSIFICATION")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#preview-images img")) == 24
    _wait(lambda: browser.execute_script(
        "return Array.from(document.querySelectorAll('#preview-images img')).every(i => i.complete && i.naturalWidth > 0)"
    ), "the sample images")  # fmt: skip
    screenshot("06-dataset-detail")
    val_zip = str(files["digits_val.zip"])
    _upload_dataset(browser, live_server, val_zip, "digits-val", "IMAGE_CLASSIFICATION")

    browser.get(live_server.url + "/jobs/new")
    screenshot("07-job-create")
    job_id = _create_job(browser, live_server, app="digits", task="IMAGE_CLASSIFICATION",
                         train="digits-train", val="digits-val", model="NumpyMlp", trials=2)  # fmt: skip
    assert "Trials run on CPU" in browser.page_source

    # Open the first trial as soon as it exists and watch it complete without reloading.
    link = _wait(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#trials a[href^='/trials/']"),
        "a trial row",
        90,
        cluster,
    )
    link[0].click()
    _wait(lambda: browser.find_elements(By.ID, "trial-status-box"), "the trial page")
    browser.execute_script("window.__sameDocument = true")
    _wait(
        lambda: "COMPLETED" in browser.find_element(By.ID, "trial-status").text,
        "the trial to complete",
        120,
        cluster,
    )
    assert browser.execute_script("return window.__sameDocument === true"), (
        "the trial page reloaded"
    )
    points = _wait(lambda: browser.execute_script(
        "var el = document.getElementById('plot-0'); return el && el.data ? el.data[0].x.length : 0"
    ), "the loss chart to get points")  # fmt: skip
    assert points >= 5  # one point per epoch
    titles = browser.execute_script(
        "return Array.from(document.querySelectorAll('.plot-chart')).map(e => e.layout.title.text)"
    )
    assert sorted(titles) == ["Accuracy", "Loss Over Epochs"]  # one chart per define_plot
    _wait(lambda: "Training on" in browser.find_element(By.ID, "log-rows").text, "the log messages")
    screenshot("08-trial-completed")

    # The job ends by itself (2 trials); the job page offers the best parameters.
    job = TrainJob.objects.get(pk=job_id)
    _wait(lambda: TrainJob.objects.get(pk=job_id).is_final, "the job to finish", 180, cluster)
    browser.get(live_server.url + f"/jobs/{job_id}/")
    _wait(lambda: browser.execute_script(
        "var el = document.getElementById('score-chart'); return el && el.data && el.data.find(t => t.name === 'trial score').y.length === 2"
    ), "the best-score chart")  # fmt: skip
    screenshot("09-job-detail")
    best = Trial.objects.filter(job=job, status="COMPLETED").order_by("-score").first()
    browser.find_element(By.ID, "best-params").click()
    expected = download_dir / f"digits-v1-trial-{best.number}-params.rafiki"
    _wait(lambda: expected.exists() and not list(download_dir.glob("*.crdownload")), "the download")
    params = load_params(str(expected))
    assert set(params) == {"w1", "b1", "w2", "b2"}
    assert params["w1"].shape[0] == 16 * 16

    # A failing model: its trial page shows the traceback.
    browser.get(live_server.url + "/models/upload")
    browser.find_element(By.NAME, "model_file").send_keys(str(FIXTURES / "models" / "toy.py"))
    browser.find_element(By.NAME, "model_class").send_keys("Toy")
    task_input = browser.find_element(By.NAME, "task")
    task_input.clear()
    task_input.send_keys("TOY_TASK")
    browser.find_element(By.CSS_SELECTOR, "#model-upload button[type=submit]").click()
    _wait(lambda: browser.find_elements(By.ID, "knobs"), "the toy model page")
    toy_data = Path(download_dir) / "toy.txt"
    toy_data.write_text("toy data\n")
    _upload_dataset(browser, live_server, str(toy_data), "toy-data", "TOY_TASK")
    # A slower trial, watched from before it starts: messages, chart point and status arrive
    # on the open page.
    live_job = _create_job(browser, live_server, app="toy-live", task="TOY_TASK", train="toy-data", val="toy-data",
                           model="Toy", trials=1, train_args='{"sleep": 6, "log_lines": 4}')  # fmt: skip
    link = _wait(
        lambda: browser.find_elements(By.CSS_SELECTOR, "#trials a[href^='/trials/']"),
        "the toy trial row",
        60,
        cluster,
    )
    link[0].click()
    _wait(lambda: browser.find_elements(By.ID, "trial-status"), "the toy trial page")
    status_at_open = browser.find_element(By.ID, "trial-status").text
    toy_trial = Trial.objects.get(job_id=live_job)
    assert status_at_open in ("PENDING", "RUNNING"), (
        status_at_open,
        toy_trial.datetime_started,
        toy_trial.datetime_stopped,
        timezone.now(),
        TrainJob.objects.get(pk=live_job).train_args,
    )
    browser.execute_script("window.__sameDocument = true")
    _wait(
        lambda: "line 3 of trial" in browser.find_element(By.ID, "log-rows").text,
        "live log lines",
        60,
        cluster,
    )
    _wait(lambda: browser.execute_script(
        "var el = document.getElementById('plot-0'); return el && el.data && el.data[0].x.length === 1"
    ), "the live chart point")  # fmt: skip
    _wait(
        lambda: "COMPLETED" in browser.find_element(By.ID, "trial-status").text,
        "the toy trial to complete",
        60,
        cluster,
    )
    assert browser.execute_script("return window.__sameDocument === true"), (
        "the trial page reloaded"
    )
    assert browser.find_elements(By.ID, "download-params")  # the downloads appear when it completes
    _wait(lambda: TrainJob.objects.get(pk=live_job).is_final, "the toy job to end", 60, cluster)

    bad_job = _create_job(browser, live_server, app="toy", task="TOY_TASK", train="toy-data", val="toy-data",
                          model="Toy", trials=1, train_args='{"fault": "raise"}')  # fmt: skip
    _wait(lambda: TrainJob.objects.get(pk=bad_job).is_final, "the failing job to end", 120, cluster)
    browser.refresh()
    assert "ERRORED" in browser.find_element(By.ID, "job-status").text
    screenshot("10-job-errored")
    browser.find_element(By.CSS_SELECTOR, "#trials a[href^='/trials/']").click()
    traceback = _wait(lambda: browser.find_elements(By.ID, "traceback"), "the traceback")[0].text
    assert "RuntimeError: the model raised on purpose" in traceback
    screenshot("11-trial-errored")

    browser.get(live_server.url + "/")
    assert browser.find_elements(By.ID, "recent-trials")
    screenshot("12-home")
    for name, url in [
        ("13-models", "/models/"),
        ("14-datasets", "/datasets/"),
        ("15-jobs", "/jobs/"),
    ]:
        browser.get(live_server.url + url)
        screenshot(name)


def test_an_admin_creates_and_bans_a_user(browser, live_server, screenshot) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    User.objects.create_superuser("superadmin@rafiki", "rafiki")
    browser.delete_all_cookies()
    _sign_in(browser, live_server, "superadmin@rafiki", "rafiki")
    browser.find_element(By.LINK_TEXT, "Users").click()
    browser.find_element(By.NAME, "email").send_keys("erin@rafiki")
    browser.find_element(By.NAME, "password").send_keys("erin-pw")
    Select(browser.find_element(By.NAME, "user_type")).select_by_value("APP_DEVELOPER")
    browser.find_element(By.XPATH, "//button[text()='Create user']").click()
    _wait(lambda: "Created erin@rafiki" in browser.page_source, "the new user")
    row = browser.find_element(By.XPATH, "//table[@id='users']//tr[td[contains(., 'erin@rafiki')]]")
    row.find_element(By.XPATH, ".//button[text()='Ban']").click()
    browser.switch_to.alert.accept()
    _wait(lambda: "Banned erin@rafiki" in browser.page_source, "the ban")
    screenshot("16-users")
    assert User.objects.get(email="erin@rafiki").banned_date is not None
