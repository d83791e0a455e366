"""Pages keep their layout with long content, in a wide and a narrow window: long knob names
and values, a long log line, a job's knob table. The `screenshot` fixture fails when a page is
wider than the window. No worker needed: the job and its trials are written directly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.accounts.models import User
from apps.datasets.services import dataset_create
from apps.models.services import model_template_create
from apps.trials.models import SubTrainJob, TrainJob, Trial, TrialLog
from rafiki.constants import UserType

pytestmark = [pytest.mark.django_db(transaction=True)]

LONG_KNOBS = Path(__file__).parent / "models" / "long_knobs.py"


def _job_with_long_knobs(user: User) -> TrainJob:
    model = model_template_create(
        owner=user,
        name="LongKnobs",
        task="IMAGE_CLASSIFICATION",
        file=SimpleUploadedFile("long_knobs.py", LONG_KNOBS.read_bytes()),
        class_name="LongKnobs",
        dependencies={},
        access_right="PRIVATE",
    )
    data = dataset_create(
        owner=user, name="some-data", task="LAYOUT_TEST", file=SimpleUploadedFile("d.txt", b"x")
    )
    now = timezone.now()
    job = TrainJob.objects.create(
        owner=user, app="long-knobs", app_version=1, task="IMAGE_CLASSIFICATION",
        train_dataset=data, val_dataset=data, budget={"MODEL_TRIAL_COUNT": 3},
        status=TrainJob.Status.STOPPED, datetime_stopped=now,
    )  # fmt: skip
    sub = SubTrainJob.objects.create(job=job, model=model, status=SubTrainJob.Status.STOPPED)
    path = "/some/very/long/path/that/a/model/author/might/use/as/a/fixed/knob/value.txt"
    for number, (optimizer, arch) in enumerate(
        [
            ("stochastic_gradient_descent_with_nesterov_momentum", [256, 64, "swish", 0.0, 128, "gelu"]),
            ("adam_with_decoupled_weight_decay_and_warmup", [64, 256, "relu", 0.3, 256, "swish"]),
            ("lars", [16, 16, "tanh", 0.5, 16, "relu"]),
        ],
        start=1,
    ):  # fmt: skip
        trial = Trial.objects.create(
            job=job, sub_job=sub, number=number, status=Trial.Status.COMPLETED,
            score=0.5 + number / 10, datetime_started=now - timedelta(seconds=10 * number),
            datetime_stopped=now - timedelta(seconds=10 * number - 5),
            knobs={"optimizer_with_a_rather_long_descriptive_name": optimizer, "architecture": arch,
                   "learning_rate": 10 ** -number, "epochs": number, "a_fixed_string_value": path},
        )  # fmt: skip
        TrialLog.objects.bulk_create(
            [
                TrialLog(trial=trial, time=now, type="PLOT",
                         payload={"title": "Loss", "metrics": ["loss"], "x_axis": "epoch"}),
                TrialLog(trial=trial, time=now, type="METRICS", payload={"loss": 1.0, "epoch": 0}),
                TrialLog(trial=trial, time=now, type="MESSAGE",
                         payload={"message": "a_very_long_token_without_spaces_" * 12}),
            ]
        )  # fmt: skip
    return job


def test_long_knobs_and_log_lines_wrap_in_wide_and_narrow_windows(
    browser, live_server, screenshot
) -> None:
    from selenium.webdriver.common.by import By

    user = User.objects.create_user("lena@rafiki", "lena-pw", user_type=UserType.MODEL_DEVELOPER)
    job = _job_with_long_knobs(user)
    trial = job.trials.get(number=2)
    browser.delete_all_cookies()
    browser.get(live_server.url + "/login/")
    browser.find_element(By.NAME, "username").send_keys("lena@rafiki")
    browser.find_element(By.NAME, "password").send_keys("lena-pw")
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    pages = [
        ("model", f"/models/{job.sub_jobs.get().model_id}/"),
        ("job", f"/jobs/{job.pk}/"),
        ("trial", f"/trials/{trial.pk}/"),
        ("jobs", "/jobs/"),
    ]
    try:
        for width in (1400, 700):
            browser.set_window_size(width, 1000)
            for name, url in pages:
                browser.get(live_server.url + url)
                assert "/login/" not in browser.current_url
                screenshot(f"layout-{name}-{width}")
    finally:
        browser.set_window_size(1400, 1000)
    # The About facts keep their column next to a long knob table (not one letter a line).
    browser.get(live_server.url + pages[0][1])
    facts = browser.find_element(By.CSS_SELECTOR, "dl.facts")
    assert facts.size["width"] > 300
