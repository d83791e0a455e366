from __future__ import annotations

import json
from pathlib import PurePath

from django import forms

from rafiki.constants import ModelAccessRight, TaskType


class TaskInput(forms.TextInput):
    """A free-text task with the known tasks offered as suggestions (custom tasks are allowed)."""

    template_name = "widgets/task_input.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["list"] = f"{context['widget']['attrs'].get('id', name)}-tasks"
        context["tasks"] = TaskType.values()
        return context


def parse_dependencies(text: str) -> dict[str, str]:
    """`{"scikit-learn": "1.4"}` or one `package==version` (or `package version`) a line."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc}") from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise forms.ValidationError(
                'write an object of package -> version, e.g. {"numpy": "1.26"}'
            )
        return value
    deps: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            name, _, version = line.partition(" ")
        if not name.strip():
            raise forms.ValidationError(f"line {number}: write package==version")
        deps[name.strip()] = version.strip()
    return deps


class ModelUploadForm(forms.Form):
    model_file = forms.FileField(
        label="Model file (.py)",
        help_text="A Python file defining a subclass of rafiki.model.BaseModel.",
    )
    model_class = forms.CharField(
        label="Class name",
        max_length=200,
        required=False,
        help_text="The class in the file to tune. Left empty, the file name is used (NumpyMlp.py → NumpyMlp).",
    )
    name = forms.CharField(
        max_length=200, required=False, help_text="Left empty, the class name is used."
    )
    task = forms.CharField(
        max_length=100,
        widget=TaskInput,
        initial=TaskType.IMAGE_CLASSIFICATION,
        help_text="A known task or your own task name.",
    )
    dependencies = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "scikit-learn==1.4.2\nnumpy==1.26"}),
        help_text="One package==version a line, or a JSON object. Known: scikit-learn, torch, tensorflow, Keras, xgboost…",
    )
    access_right = forms.ChoiceField(
        choices=[(v, v.title()) for v in (ModelAccessRight.PRIVATE, ModelAccessRight.PUBLIC)],
        initial=ModelAccessRight.PRIVATE,
        widget=forms.RadioSelect,
        help_text="Public models can be used in anyone's train jobs; only you see the source.",
    )

    def clean_dependencies(self) -> dict[str, str]:
        return parse_dependencies(self.cleaned_data.get("dependencies", ""))

    def clean(self):
        data = super().clean()
        upload = data.get("model_file")
        if upload is not None and not data.get("model_class"):
            data["model_class"] = PurePath(upload.name).stem
        if not data.get("name"):
            data["name"] = data.get("model_class", "")
        return data
