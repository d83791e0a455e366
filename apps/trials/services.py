"""Writes for train jobs: create, stop, schedule trials, finish, reconcile.

The worker side of one trial (claim, run, record) is in `apps.trials.execution`.

Job end rule ("a job whose model errors ends ERRORED"): a sub-job stops proposing trials
once its first SUBJOB_ERRORS_BEFORE_GIVING_UP finished trials all errored (default 1: a model
whose first trial errors is broken; once any trial of it completed, later errors are just
bad knob values). When nothing is in flight and nothing more can be proposed, the job ends:
ERRORED when no trial of the job completed and some sub-job errored (the error names the
model and its first trial's error), otherwise STOPPED. Each sub-job keeps its own status.
"""

from __future__ import annotations

import json
import math
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import User
from apps.datasets.models import Dataset
from apps.models.models import ModelTemplate
from apps.models.services import InvalidModelError
from apps.trials.models import SubTrainJob, TrainJob, Trial
from rafiki.constants import DEFAULT_BUDGET, BudgetOption


class InvalidTrainJobError(ValidationError):
    """A train job request was refused; the message says why (Rafiki's error name)."""


# --- create ---------------------------------------------------------------------------------


def _int_value(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidTrainJobError(f"budget {name} must be an integer, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    if isinstance(value, int):
        return value
    raise InvalidTrainJobError(f"budget {name} must be an integer, got {value!r}")


def _float_value(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise InvalidTrainJobError(f"budget {name} must be a number, got {value!r}")
    try:
        result = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise InvalidTrainJobError(f"budget {name} must be a number, got {value!r}") from None
    if not math.isfinite(result):
        raise InvalidTrainJobError(f"budget {name} must be a finite number, got {value!r}")
    return result


def budget_validate(budget: dict[str, Any] | None) -> dict[str, Any]:
    """The budget with defaults filled in (``rafiki.constants.DEFAULT_BUDGET``), checked:
    MODEL_TRIAL_COUNT an integer >= 1 or -1 (unlimited), TIME_HOURS a number > 0, GPU_COUNT an
    integer >= 0. Unknown options are refused."""
    if budget is None:
        budget = {}
    if not isinstance(budget, dict):
        raise InvalidTrainJobError("budget must be an object of option -> value")
    unknown = sorted(set(budget) - set(BudgetOption.values()))
    if unknown:
        raise InvalidTrainJobError(
            f"unknown budget option(s) {', '.join(unknown)}; use {', '.join(BudgetOption.values())}"
        )
    merged = {**DEFAULT_BUDGET, **budget}
    trial_count = _int_value(BudgetOption.MODEL_TRIAL_COUNT, merged[BudgetOption.MODEL_TRIAL_COUNT])
    if trial_count < -1 or trial_count == 0:
        raise InvalidTrainJobError(
            f"budget MODEL_TRIAL_COUNT must be -1 (unlimited) or at least 1, got {trial_count}"
        )
    hours = _float_value(BudgetOption.TIME_HOURS, merged[BudgetOption.TIME_HOURS])
    if hours <= 0:
        raise InvalidTrainJobError(f"budget TIME_HOURS must be more than 0, got {hours}")
    gpus = _int_value(BudgetOption.GPU_COUNT, merged[BudgetOption.GPU_COUNT])
    if gpus < 0:
        raise InvalidTrainJobError(f"budget GPU_COUNT must be 0 or more, got {gpus}")
    return {
        BudgetOption.MODEL_TRIAL_COUNT: trial_count,
        BudgetOption.TIME_HOURS: hours,
        BudgetOption.GPU_COUNT: gpus,
    }


def _dataset_for(owner: User, value: Dataset | int, role: str, task: str) -> Dataset:
    dataset_id = value.pk if isinstance(value, Dataset) else value
    dataset = Dataset.objects.filter(pk=dataset_id, owner=owner).first()
    if dataset is None:
        raise InvalidTrainJobError(f"{role} dataset {dataset_id!r} does not exist or is not yours")
    if dataset.task != task:
        raise InvalidTrainJobError(
            f"{role} dataset {dataset.name!r} is for task {dataset.task}, not {task}"
        )
    return dataset


def _models_for(
    owner: User, values: Sequence[ModelTemplate | int], task: str
) -> list[ModelTemplate]:
    if not values:
        raise InvalidTrainJobError("a train job needs at least one model")
    ids = [v.pk if isinstance(v, ModelTemplate) else v for v in values]
    if len(set(ids)) != len(ids):
        raise InvalidTrainJobError("a model is listed twice")
    found = {m.pk: m for m in ModelTemplate.objects.filter(pk__in=ids)}
    models: list[ModelTemplate] = []
    for model_id in ids:
        model = found.get(model_id)
        if model is None or (
            model.owner_id != owner.pk and model.access_right != ModelTemplate.AccessRight.PUBLIC
        ):
            raise InvalidModelError(f"model {model_id!r} does not exist or is not available to you")
        if model.task != task:
            raise InvalidModelError(f"model {model.name!r} is for task {model.task}, not {task}")
        models.append(model)
    return models


def gpu_worker_available() -> bool:
    """Whether some Celery worker consumes the GPU queue right now (asks the workers)."""
    from rafiki_web.celery import app

    try:
        replies = app.control.inspect(timeout=1.0).active_queues() or {}
    except Exception:  # noqa: BLE001 - broker unreachable: "no GPU worker", the job still runs
        return False
    return any(
        queue.get("name") == settings.CELERY_GPU_QUEUE
        for queues in replies.values()
        for queue in queues or []
    )


def train_job_create(
    *,
    owner: User,
    app: str,
    task: str,
    train_dataset: Dataset | int,
    val_dataset: Dataset | int,
    models: Sequence[ModelTemplate | int],
    budget: dict[str, Any] | None = None,
    train_args: dict[str, Any] | None = None,
    parallelism: int | None = None,
) -> TrainJob:
    """Create a train job (version = the owner's last version of ``app`` + 1) with one sub-job
    per model, and schedule its first trials after the commit.

    Datasets must be the owner's, models the owner's or PUBLIC (else ``InvalidModelError``),
    all for ``task``; the budget is checked by ``budget_validate``. With GPU_COUNT > 0 and no
    worker on the GPU queue, the job runs on CPU and its ``note`` says so.
    """
    app = (app or "").strip()
    task = (task or "").strip()
    if not app:
        raise InvalidTrainJobError("a train job needs an app name")
    if len(app) > 200:
        raise InvalidTrainJobError("the app name is longer than 200 characters")
    if not task:
        raise InvalidTrainJobError("a train job needs a task")
    checked_budget = budget_validate(budget)
    train_args = {} if train_args is None else train_args
    if not isinstance(train_args, dict):
        raise InvalidTrainJobError("train_args must be an object")
    try:
        json.dumps(train_args)
    except (TypeError, ValueError):
        raise InvalidTrainJobError(
            "train_args must be JSON (strings, numbers, lists, objects)"
        ) from None
    if parallelism is None:
        parallelism = settings.JOB_PARALLELISM
    if parallelism < 1:
        raise InvalidTrainJobError("parallelism must be at least 1")

    train = _dataset_for(owner, train_dataset, "training", task)
    val = _dataset_for(owner, val_dataset, "validation", task)
    if train.summary and val.summary:
        from rafiki.model.dataset import InvalidDatasetError, validate_dataset_pair

        try:
            validate_dataset_pair(task, train.summary, val.summary)
        except InvalidDatasetError as exc:
            raise InvalidTrainJobError(f"the datasets do not match: {exc}") from exc
    chosen = _models_for(owner, models, task)

    queue, note = settings.CELERY_TASK_DEFAULT_QUEUE, ""
    if checked_budget[BudgetOption.GPU_COUNT] > 0:
        if gpu_worker_available():
            queue = settings.CELERY_GPU_QUEUE
        else:
            note = (
                f"GPU_COUNT is {checked_budget[BudgetOption.GPU_COUNT]} but no worker serves "
                f"the '{settings.CELERY_GPU_QUEUE}' queue: the trials run on CPU."
            )

    for _ in range(5):  # two creates of the same app may race for the next version
        try:
            with transaction.atomic():
                last = TrainJob.objects.filter(owner=owner, app=app).aggregate(v=Max("app_version"))
                job = TrainJob.objects.create(
                    owner=owner,
                    app=app,
                    app_version=(last["v"] or 0) + 1,
                    task=task,
                    train_dataset=train,
                    val_dataset=val,
                    budget=checked_budget,
                    train_args=train_args,
                    parallelism=parallelism,
                    queue=queue,
                    note=note,
                )
                SubTrainJob.objects.bulk_create(SubTrainJob(job=job, model=m) for m in chosen)
                transaction.on_commit(lambda job_id=job.pk: _enqueue_schedule(job_id))
            return job
        except IntegrityError:
            continue
    raise InvalidTrainJobError(f"could not allocate a version of app {app!r}; try again")


# --- stop -----------------------------------------------------------------------------------


@transaction.atomic
def train_job_stop(*, job: TrainJob) -> TrainJob:
    """Stop a job: it ends STOPPED now, pending trials are cancelled (ERRORED, CANCELLED), and
    running trials are terminated by their workers within a heartbeat (ERRORED, STOPPED).
    Stopping a finished job changes nothing."""
    locked = TrainJob.objects.select_for_update().get(pk=job.pk)
    if locked.is_final:
        return locked
    now = timezone.now()
    Trial.objects.filter(job=locked, status=Trial.Status.PENDING).update(
        status=Trial.Status.ERRORED,
        end_reason=Trial.PlatformEndReason.CANCELLED,
        error="The job was stopped before this trial ran.",
        datetime_stopped=now,
    )
    SubTrainJob.objects.filter(job=locked, status=SubTrainJob.Status.RUNNING).update(
        status=SubTrainJob.Status.STOPPED, datetime_stopped=now
    )
    locked.status = TrainJob.Status.STOPPED
    locked.datetime_stopped = now
    locked.save(update_fields=["status", "datetime_stopped"])
    return locked


# --- schedule -------------------------------------------------------------------------------


def _enqueue_trial(trial_id: int, task_id: str, queue: str) -> None:
    from apps.trials.tasks import run_trial

    run_trial.apply_async(args=[trial_id], task_id=task_id, queue=queue)


def _enqueue_schedule(job_id: int) -> None:
    from apps.trials.tasks import schedule_job

    schedule_job.delay(job_id)


def _jsonable(value: Any) -> Any:
    """Knob values as plain JSON (numpy scalars from samplers become Python numbers)."""

    def default(obj: Any) -> Any:
        if hasattr(obj, "item"):
            return obj.item()
        if hasattr(obj, "tolist"):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    return json.loads(json.dumps(value, default=default))


@dataclass
class _TrialFacts:
    """What scheduling reads of a trial (plain values: a job's every trial is read on each
    schedule, and model instances cost ten times more)."""

    pk: int
    sub_job_id: int
    number: int
    status: str
    knobs: dict[str, Any]
    score: float | None
    is_params_saved: bool
    end_reason: str

    FIELDS = ("pk", "sub_job_id", "number", "status", "knobs", "score", "is_params_saved",
              "end_reason")  # fmt: skip

    @classmethod
    def of(cls, trial: Trial) -> _TrialFacts:
        return cls(*(getattr(trial, name) for name in cls.FIELDS))


def _sub_can_take_more(job: TrainJob, sub: SubTrainJob, trials: list[_TrialFacts]) -> bool:
    if sub.status != SubTrainJob.Status.RUNNING:
        return False
    if job.model_trial_count != -1 and len(trials) >= job.model_trial_count:
        return False
    completed = sum(t.status == Trial.Status.COMPLETED for t in trials)
    errored = sum(t.status == Trial.Status.ERRORED for t in trials)
    return not (completed == 0 and errored >= settings.SUBJOB_ERRORS_BEFORE_GIVING_UP)


@dataclass
class _KeptAdvisor:
    """A sub-job's advisor kept by this process, and what it was told of each trial."""

    advisor: Any
    told: dict[int, str] = field(default_factory=dict)  # trial pk -> status
    awaiting_trial: bool = False  # it proposed; the trial row is not created yet


#: Advisors of recently scheduled sub-jobs (this process's). Telling a kept advisor what
#: changed costs little; replaying every trial into a new one grows with the job.
_kept_advisors: OrderedDict[int, _KeptAdvisor] = OrderedDict()
_KEPT_ADVISORS_MAX = 32


def _new_advisor(job: TrainJob, sub: SubTrainJob, trials: list[_TrialFacts]) -> _KeptAdvisor:
    from rafiki.advisor import make_advisor
    from rafiki.model.knob import knob_config_from_json

    # A seed that changes with every proposal: a rebuilt advisor must not repeat its first draw.
    advisor = make_advisor(
        knob_config_from_json(sub.model.knob_config),
        budget=job.budget,
        seed=(sub.pk * 100_003 + len(trials)) % (2**31),
    )
    return _KeptAdvisor(advisor)


def _tell(kept: _KeptAdvisor, trials: list[_TrialFacts]) -> bool:
    """Tell a kept advisor what changed since; False when the stored trials contradict what it
    was told (a trial gone with a rolled-back transaction, a result changed), or a proposal
    of its never became a trial: then it is rebuilt."""
    if kept.awaiting_trial:
        return False
    current = {t.pk: t for t in trials}
    for pk, status in kept.told.items():
        trial = current.get(pk)
        if trial is None or (status not in Trial.IN_FLIGHT_STATES and trial.status != status):
            return False
    for trial in sorted(trials, key=lambda t: t.number):
        before = kept.told.get(trial.pk)
        if before == trial.status:
            continue
        if trial.status == Trial.Status.COMPLETED:
            kept.advisor.feedback(trial.knobs, trial.score)
        elif trial.status == Trial.Status.ERRORED:
            kept.advisor.feedback(trial.knobs, None)
        elif before is None:
            kept.advisor.pending(trial.knobs)
        kept.told[trial.pk] = trial.status
    return True


def _propose(job: TrainJob, sub: SubTrainJob, trials: list[_TrialFacts]) -> Any:
    """Ask the sub-job's advisor for the next knobs: the one this process kept, told what
    changed, or one rebuilt from the stored trials."""
    kept = _kept_advisors.pop(sub.pk, None)
    if kept is None or not _tell(kept, trials):
        kept = _new_advisor(job, sub, trials)
        _tell(kept, trials)
    proposal = kept.advisor.propose()
    kept.awaiting_trial = proposal is not None
    _kept_advisors[sub.pk] = kept
    while len(_kept_advisors) > _KEPT_ADVISORS_MAX:
        _kept_advisors.popitem(last=False)
    return proposal


def _told_created(sub: SubTrainJob, trial: Trial) -> None:
    """The trial of the kept advisor's proposal exists (in this transaction: if it rolls
    back, the advisor's next use finds the trial gone and rebuilds)."""
    kept = _kept_advisors.get(sub.pk)
    if kept is not None and kept.awaiting_trial:
        kept.told[trial.pk] = trial.status
        kept.awaiting_trial = False


def _best_params_trial(trials: Iterable[_TrialFacts]) -> _TrialFacts | None:
    scored = [
        t
        for t in trials
        if t.status == Trial.Status.COMPLETED and t.is_params_saved and t.score is not None
    ]
    return max(scored, key=lambda t: t.score) if scored else None


def train_job_schedule(*, job_id: int) -> list[int]:
    """Create PENDING trials for a job up to its parallelism and enqueue them after the commit;
    finish the job when nothing is in flight and nothing more can be tried. Returns the ids of
    the new trials. Safe to call any number of times (the job row is locked)."""
    with transaction.atomic():
        job = TrainJob.objects.select_for_update().get(pk=job_id)
        if job.is_final:
            return []
        subs = list(job.sub_jobs.select_related("model"))
        by_sub: dict[int, list[_TrialFacts]] = defaultdict(list)
        for values in job.trials.values_list(*_TrialFacts.FIELDS):
            facts = _TrialFacts(*values)
            by_sub[facts.sub_job_id].append(facts)
        in_flight = sum(t.status in Trial.IN_FLIGHT_STATES for ts in by_sub.values() for t in ts)
        next_number = 1 + max((t.number for ts in by_sub.values() for t in ts), default=0)
        now = timezone.now()
        open_subs = [s for s in subs if _sub_can_take_more(job, s, by_sub[s.pk])]
        created: list[Trial] = []
        while now < job.deadline and in_flight < job.parallelism and open_subs:
            sub = min(open_subs, key=lambda s: (len(by_sub[s.pk]), s.pk))  # fewest trials first
            proposal = _propose(job, sub, by_sub[sub.pk])
            if proposal is None:  # the advisor has nothing more to try for this model
                open_subs.remove(sub)
                if not any(t.status in Trial.IN_FLIGHT_STATES for t in by_sub[sub.pk]):
                    _sub_job_close(sub, by_sub[sub.pk], now)
                continue
            knobs = _jsonable(dict(proposal.knobs))
            shared_from = _best_params_trial(by_sub[sub.pk]) if proposal.share_params else None
            trial = Trial.objects.create(
                job=job,
                sub_job=sub,
                number=next_number,
                knobs=knobs,
                proposal=_jsonable(
                    {
                        "knobs": knobs,
                        "share_params": bool(proposal.share_params),
                        "meta": dict(proposal.meta or {}),
                    }
                ),
                shared_params_from_id=shared_from.pk if shared_from else None,
                enqueued_at=now,
                task_id=str(uuid.uuid4()),
            )
            _told_created(sub, trial)
            created.append(trial)
            by_sub[sub.pk].append(_TrialFacts.of(trial))
            next_number += 1
            in_flight += 1
            if not _sub_can_take_more(job, sub, by_sub[sub.pk]):
                open_subs.remove(sub)
        if in_flight == 0:
            _train_job_finish(job, subs, by_sub, now)
        for trial in created:
            transaction.on_commit(
                lambda t=trial, queue=job.queue: _enqueue_trial(t.pk, t.task_id, queue)
            )
    return [t.pk for t in created]


def _first_error(trials: list[_TrialFacts]) -> _TrialFacts | None:
    errored = [t for t in trials if t.status == Trial.Status.ERRORED]
    return min(errored, key=lambda t: t.number) if errored else None


def _sub_job_close(sub: SubTrainJob, trials: list[_TrialFacts], now: datetime) -> None:
    if sub.status != SubTrainJob.Status.RUNNING:
        return
    completed = any(t.status == Trial.Status.COMPLETED for t in trials)
    first_error = _first_error(trials)
    if not completed and first_error is not None:
        sub.status = SubTrainJob.Status.ERRORED
        error = Trial.objects.filter(pk=first_error.pk).values_list("error", flat=True)[0]
        reason = error or first_error.end_reason
        sub.error = f"trial {first_error.number} ended {first_error.end_reason}: {reason}"
    else:
        sub.status = SubTrainJob.Status.STOPPED
    sub.datetime_stopped = now
    sub.save(update_fields=["status", "error", "datetime_stopped"])


def _train_job_finish(
    job: TrainJob, subs: list[SubTrainJob], by_sub: dict[int, list[_TrialFacts]], now: datetime
) -> None:
    for sub in subs:
        _sub_job_close(sub, by_sub[sub.pk], now)
    any_completed = any(t.status == Trial.Status.COMPLETED for ts in by_sub.values() for t in ts)
    errored = [s for s in subs if s.status == SubTrainJob.Status.ERRORED]
    if errored and not any_completed:
        job.status = TrainJob.Status.ERRORED
        job.error = "; ".join(f"model {s.model.name!r}: {s.error}" for s in errored)
    else:
        job.status = TrainJob.Status.STOPPED
    job.datetime_stopped = now
    job.save(update_fields=["status", "error", "datetime_stopped"])


# --- reconcile ------------------------------------------------------------------------------


def trials_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """Repair what lost workers and lost messages leave behind (run by Celery beat):

    - RUNNING trials whose heartbeat is older than TRIAL_STALE_SECONDS go back to PENDING and
      are enqueued again, up to TRIAL_MAX_ATTEMPTS claims; then they end ERRORED, WORKER_LOST.
    - PENDING trials enqueued more than TRIAL_ORPHAN_SECONDS ago are enqueued again (the
      claim makes a duplicate harmless).
    - Active jobs with nothing in flight are scheduled again (a worker died between recording
      a trial and scheduling the next one).
    Returns counts of what it did.
    """
    now = now or timezone.now()
    counts = {"requeued": 0, "lost": 0, "orphans": 0, "jobs": 0}
    stale_before = now - timedelta(seconds=settings.TRIAL_STALE_SECONDS)
    stale = Trial.objects.filter(status=Trial.Status.RUNNING, heartbeat_at__lt=stale_before)
    for trial in stale.select_related("job"):
        with transaction.atomic():
            mine = Trial.objects.filter(
                pk=trial.pk, status=Trial.Status.RUNNING, attempt=trial.attempt
            )
            if trial.job.is_final or trial.attempt >= settings.TRIAL_MAX_ATTEMPTS:
                updated = mine.update(
                    status=Trial.Status.ERRORED,
                    end_reason=Trial.PlatformEndReason.WORKER_LOST,
                    error=(
                        f"The worker running this trial stopped responding "
                        f"({trial.worker or 'unknown worker'}, attempt {trial.attempt})."
                    ),
                    datetime_stopped=now,
                )
                if updated:
                    counts["lost"] += 1
                    transaction.on_commit(lambda j=trial.job_id: _enqueue_schedule(j))
            else:
                task_id = str(uuid.uuid4())
                updated = mine.update(
                    status=Trial.Status.PENDING,
                    worker="",
                    heartbeat_at=None,
                    enqueued_at=now,
                    task_id=task_id,
                )
                if updated:
                    counts["requeued"] += 1
                    transaction.on_commit(
                        lambda t=trial, tid=task_id: _enqueue_trial(t.pk, tid, t.job.queue)
                    )

    orphan_before = now - timedelta(seconds=settings.TRIAL_ORPHAN_SECONDS)
    orphans = Trial.objects.filter(
        status=Trial.Status.PENDING,
        enqueued_at__lt=orphan_before,
        job__status__in=TrainJob.ACTIVE_STATES,
    ).select_related("job")
    for trial in orphans:
        task_id = str(uuid.uuid4())
        with transaction.atomic():
            updated = Trial.objects.filter(
                pk=trial.pk, status=Trial.Status.PENDING, enqueued_at=trial.enqueued_at
            ).update(enqueued_at=now, task_id=task_id)
            if updated:
                counts["orphans"] += 1
                transaction.on_commit(
                    lambda t=trial, tid=task_id: _enqueue_trial(t.pk, tid, t.job.queue)
                )

    idle_jobs = TrainJob.objects.filter(status__in=TrainJob.ACTIVE_STATES).exclude(
        trials__status__in=Trial.IN_FLIGHT_STATES
    )
    for job_id in idle_jobs.values_list("pk", flat=True).distinct():
        counts["jobs"] += 1
        _enqueue_schedule(job_id)
    return counts


def train_job_stop_all() -> list[TrainJob]:
    """Stop every active train job (the superadmin's "stop all jobs"); returns them."""
    ids = list(
        TrainJob.objects.filter(status__in=TrainJob.ACTIVE_STATES).values_list("pk", flat=True)
    )
    return [train_job_stop(job=TrainJob(pk=pk)) for pk in ids]
