from __future__ import annotations

from django import forms

from apps.models.forms import TaskInput
from rafiki.constants import TaskType


class DatasetUploadForm(forms.Form):
    name = forms.CharField(
        max_length=200, required=False, help_text="Left empty, the file name is used."
    )
    task = forms.CharField(
        max_length=100,
        widget=TaskInput,
        initial=TaskType.IMAGE_CLASSIFICATION,
        help_text="Known tasks are validated on upload; any other task stores the file as it is.",
    )
    data_file = forms.FileField(
        label="Dataset file",
        help_text="IMAGE_CLASSIFICATION: a .zip with images.csv (path, class). POS_TAGGING: a .zip with "
        "corpus.tsv. TABULAR_*: a .csv.",
    )

    def clean(self):
        data = super().clean()
        upload = data.get("data_file")
        if upload is not None and not data.get("name"):
            data["name"] = upload.name.rsplit(".", 1)[0]
        return data
