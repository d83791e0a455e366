"""Writes for uploaded model templates."""

from __future__ import annotations

import hashlib
import keyword
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from apps.accounts.models import User
from apps.models.models import ModelTemplate
from rafiki.constants import ModelAccessRight


class InvalidModelError(ValidationError):
    """A model upload or use was refused; the message says why (Rafiki's error name)."""


def read_upload(file: IO[bytes] | bytes, *, max_bytes: int, what: str) -> bytes:
    """The bytes of an uploaded file (a Django File, any binary file object, or bytes),
    refusing more than ``max_bytes``."""
    if isinstance(file, (bytes, bytearray)):
        data = bytes(file)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InvalidModelError(f"{what} is larger than the limit of {max_bytes // 2**20} MiB")
    return data


def _check_dependencies(dependencies: Any) -> dict[str, str]:
    if dependencies is None:
        return {}
    if not isinstance(dependencies, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in dependencies.items()
    ):
        raise InvalidModelError(
            "dependencies must be a JSON object of package name -> version, e.g. "
            '{"scikit-learn": "1.4.2"}'
        )
    return dict(dependencies)


def model_template_create(
    *,
    owner: User,
    name: str,
    task: str,
    file: IO[bytes] | bytes,
    class_name: str,
    dependencies: dict[str, str] | None = None,
    access_right: str = ModelAccessRight.PRIVATE,
    docker_image: str = "",
) -> ModelTemplate:
    """Store an uploaded model class after checking it in a sandboxed subprocess.

    The check imports the file with a timeout and requires: the file parses, defines
    ``class_name``, the class subclasses ``rafiki.model.BaseModel``, implements every abstract
    method, and its ``get_knob_config()`` is valid. Any failure raises ``InvalidModelError``
    with the reason and stores nothing.
    """
    from rafiki.runner.inspect import ModelInspectionError, inspect_model_file

    name = (name or "").strip()
    task = (task or "").strip()
    if not name:
        raise InvalidModelError("a model needs a name")
    if not task:
        raise InvalidModelError("a model needs a task")
    if not class_name or not class_name.isidentifier() or keyword.iskeyword(class_name):
        raise InvalidModelError(f"model class {class_name!r} is not a Python class name")
    if access_right not in ModelAccessRight.values():
        raise InvalidModelError(
            f"access right {access_right!r} is not one of {', '.join(ModelAccessRight.values())}"
        )
    deps = _check_dependencies(dependencies)
    if ModelTemplate.objects.filter(owner=owner, name=name).exists():
        raise InvalidModelError(f"you already have a model named {name!r}")

    data = read_upload(file, max_bytes=settings.MAX_MODEL_FILE_MB * 2**20, what="the model file")
    if not data.strip():
        raise InvalidModelError("the model file is empty")
    try:
        inspected = inspect_model_file(
            data, class_name, timeout=settings.MODEL_INSPECT_TIMEOUT_SECONDS
        )
    except ModelInspectionError as exc:
        raise InvalidModelError(f"invalid model file: {exc}") from exc

    template = ModelTemplate(
        owner=owner,
        name=name,
        task=task,
        checksum=hashlib.sha256(data).hexdigest(),
        model_class=class_name,
        dependencies=deps,
        access_right=access_right,
        docker_image=docker_image or "",
        knob_config=inspected["knob_config"],
    )
    template.model_file.save(f"{class_name}.py", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        template.model_file.delete(save=False)
        raise InvalidModelError(f"you already have a model named {name!r}") from None
    except BaseException:
        template.model_file.delete(save=False)
        raise
    return template


@transaction.atomic
def model_template_delete(*, template: ModelTemplate) -> None:
    """Delete a model template that no train job uses (its file goes after the commit)."""
    if template.sub_train_jobs.exists():
        raise InvalidModelError(f"model {template.name!r} is used by a train job")
    file_name = template.model_file.name
    storage = template.model_file.storage
    template.delete()
    transaction.on_commit(lambda: storage.delete(file_name))
