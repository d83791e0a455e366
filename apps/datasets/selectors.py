"""Reads of datasets."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.datasets.models import Dataset


def dataset_list(*, user: User, task: str | None = None) -> QuerySet[Dataset]:
    """The user's own datasets (datasets are never shared), newest first."""
    qs = Dataset.objects.filter(owner=user)
    if task:
        qs = qs.filter(task=task)
    return qs


def dataset_get(*, user: User, dataset_id: int) -> Dataset | None:
    """The user's own dataset; None for anyone else's (answer 404)."""
    return Dataset.objects.filter(owner=user, pk=dataset_id).first()


# --- preview (the dataset page) ---------------------------------------------------------------

#: Index files larger than this are not read for a preview.
_PREVIEW_INDEX_MAX_BYTES = 64 * 2**20
#: Images larger than this (uncompressed) are not decoded for a thumbnail.
_PREVIEW_IMAGE_MAX_BYTES = 20 * 2**20


def _open_zip(dataset: Dataset):
    import zipfile

    handle = dataset.data_file.open("rb")
    try:
        return zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError):
        handle.close()
        return None


def _read_member_text(archive, name: str, max_lines: int | None = None) -> list[str] | None:
    """Lines of a text member at the root of the zip (None when absent or too large)."""
    import io

    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _PREVIEW_INDEX_MAX_BYTES:
        return None
    with archive.open(info) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        lines = []
        for line in text:
            lines.append(line)
            if max_lines is not None and len(lines) >= max_lines:
                break
        return lines


def _image_rows(archive) -> list[tuple[str, str]]:
    """(member path, class) of every row of images.csv."""
    import csv

    lines = _read_member_text(archive, "images.csv")
    if not lines:
        return []
    reader = csv.DictReader(lines)
    return [(row.get("path", ""), row.get("class", "")) for row in reader]


def dataset_preview(*, dataset: Dataset, limit: int = 24) -> dict:
    """What the dataset page shows as a sample: for IMAGE_FILES a spread of rows over the
    classes (``images``: [{"row", "path", "cls"}]), for CORPUS and TABULAR the first rows
    (``columns``, ``rows``). ``kind`` is "images", "table" or "" (nothing to show)."""
    import csv

    dataset_type = (dataset.summary or {}).get("dataset_type")
    if dataset_type == "IMAGE_FILES":
        archive = _open_zip(dataset)
        if archive is None:
            return {"kind": ""}
        with archive:
            rows = _image_rows(archive)
        by_class: dict[str, list[int]] = {}
        for number, (_, cls) in enumerate(rows):
            by_class.setdefault(cls, []).append(number)
        picked: list[int] = []
        # Round-robin over classes so the sample shows every class, in class order.
        queues = [by_class[c] for c in sorted(by_class, key=lambda c: (len(c), c))]
        depth = 0
        while len(picked) < limit and any(depth < len(q) for q in queues):
            for queue in queues:
                if depth < len(queue) and len(picked) < limit:
                    picked.append(queue[depth])
            depth += 1
        return {
            "kind": "images",
            "images": [{"row": n, "path": rows[n][0], "cls": rows[n][1]} for n in picked],
        }
    if dataset_type == "CORPUS":
        archive = _open_zip(dataset)
        if archive is None:
            return {"kind": ""}
        with archive:
            lines = _read_member_text(archive, "corpus.tsv", max_lines=limit + 1) or []
        table = [line.rstrip("\r\n").split("\t") for line in lines]
        return {"kind": "table", "columns": table[0] if table else [], "rows": table[1:]}
    if dataset_type == "TABULAR":
        import io

        with dataset.data_file.open("rb") as handle:
            text = io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline="")
            reader = csv.reader(text)
            table = []
            for row in reader:
                table.append(row)
                if len(table) > limit:
                    break
        return {"kind": "table", "columns": table[0] if table else [], "rows": table[1:]}
    return {"kind": ""}


def dataset_preview_image(*, dataset: Dataset, row: int, size: int = 128) -> bytes | None:
    """Row ``row`` of an IMAGE_FILES dataset's images.csv as a PNG thumbnail (at most
    ``size`` pixels a side), decoded with the same guards as validation; None when the row
    or image is missing or unreadable."""
    import io
    import posixpath
    import warnings

    from PIL import Image

    from rafiki.model.dataset.images import IMAGE_FORMATS

    if (dataset.summary or {}).get("dataset_type") != "IMAGE_FILES":
        return None
    archive = _open_zip(dataset)
    if archive is None:
        return None
    with archive:
        rows = _image_rows(archive)
        if not 0 <= row < len(rows):
            return None
        member = posixpath.normpath(rows[row][0].replace("\\", "/")).lstrip("/")
        try:
            info = archive.getinfo(member)
        except KeyError:
            return None
        if info.file_size > _PREVIEW_IMAGE_MAX_BYTES:
            return None
        data = archive.read(info)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
            image.thumbnail((size, size))
            out = io.BytesIO()
            image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(out, "PNG")
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ):
        return None
    return out.getvalue()


def dataset_tasks(*, user: User) -> list[str]:
    return sorted(set(dataset_list(user=user).values_list("task", flat=True)))
