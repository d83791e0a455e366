from __future__ import annotations

import json

from django import forms

from rafiki.constants import DEFAULT_BUDGET, BudgetOption, TaskType


class _TaskTagged:
    """Options carry data-task so that static/js/job_create.js can show only the chosen task's."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)  # type: ignore[misc]
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-task"] = instance.task
        return option


class TaskSelect(_TaskTagged, forms.Select):
    pass


class TaskCheckboxes(_TaskTagged, forms.CheckboxSelectMultiple):
    pass


class TrainJobForm(forms.Form):
    app = forms.CharField(
        label="App name",
        max_length=200,
        help_text="Jobs of the same app are numbered versions (v1, v2, …).",
    )
    task = forms.ChoiceField()
    train_dataset = forms.ModelChoiceField(
        queryset=None, widget=TaskSelect, label="Training dataset"
    )
    val_dataset = forms.ModelChoiceField(
        queryset=None, widget=TaskSelect, label="Validation dataset"
    )
    models = forms.ModelMultipleChoiceField(
        queryset=None, widget=TaskCheckboxes, help_text="Each model is tuned in its own sub-job."
    )
    model_trial_count = forms.IntegerField(
        label="Trials per model",
        initial=DEFAULT_BUDGET[BudgetOption.MODEL_TRIAL_COUNT],
        min_value=-1,
        help_text="MODEL_TRIAL_COUNT; -1 = as many as fit in the time.",
    )
    time_hours = forms.FloatField(
        label="Time (hours)",
        initial=DEFAULT_BUDGET[BudgetOption.TIME_HOURS],
        min_value=0.001,
        help_text="TIME_HOURS: no new trial starts after this.",
    )
    gpu_count = forms.IntegerField(
        label="GPUs",
        initial=DEFAULT_BUDGET[BudgetOption.GPU_COUNT],
        min_value=0,
        help_text="GPU_COUNT; with no GPU worker the job runs on CPU.",
    )
    train_args = forms.CharField(
        required=False,
        initial="{}",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='A JSON object passed to train(), e.g. {"features": ["a", "b"], "target": "y"}.',
    )

    def __init__(self, *args, datasets, models, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["train_dataset"].queryset = datasets
        self.fields["val_dataset"].queryset = datasets
        self.fields["models"].queryset = models
        tasks = (
            set(TaskType.values())
            | set(datasets.values_list("task", flat=True))
            | set(models.values_list("task", flat=True))
        )
        self.fields["task"].choices = [(t, t) for t in sorted(tasks)]
        self.fields["models"].label_from_instance = lambda m: (
            m.name if m.name == m.model_class else f"{m.name} ({m.model_class})"
        )
        self.fields["train_dataset"].label_from_instance = lambda d: f"{d.name} · {d.task}"
        self.fields["val_dataset"].label_from_instance = lambda d: f"{d.name} · {d.task}"

    def clean_train_args(self) -> dict:
        text = (self.cleaned_data.get("train_args") or "").strip() or "{}"
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            ) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(
                'train_args must be a JSON object, e.g. {} or {"epochs": 3}.'
            )
        return value

    def clean_model_trial_count(self) -> int:
        value = self.cleaned_data["model_trial_count"]
        if value == 0:
            raise forms.ValidationError("Use -1 (unlimited) or at least 1.")
        return value

    def clean(self):
        data = super().clean()
        task = data.get("task")
        for field in ("train_dataset", "val_dataset"):
            dataset = data.get(field)
            if dataset is not None and task and dataset.task != task:
                self.add_error(field, f"{dataset.name} is a {dataset.task} dataset, not {task}.")
        for model in data.get("models") or []:
            if task and model.task != task:
                self.add_error("models", f"{model.name} is a {model.task} model, not {task}.")
        return data

    def budget(self) -> dict:
        return {
            BudgetOption.MODEL_TRIAL_COUNT: self.cleaned_data["model_trial_count"],
            BudgetOption.TIME_HOURS: self.cleaned_data["time_hours"],
            BudgetOption.GPU_COUNT: self.cleaned_data["gpu_count"],
        }
