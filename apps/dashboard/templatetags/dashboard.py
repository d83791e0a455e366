"""Small formatting filters shared by the page templates."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django import template
from django.utils.html import format_html

register = template.Library()

_BADGE_CLASS = {
    "COMPLETED": "ok",
    "STOPPED": "neutral",
    "RUNNING": "live",
    "STARTED": "live",
    "PENDING": "wait",
    "ERRORED": "bad",
    "PUBLIC": "info",
    "PRIVATE": "neutral",
    "BANNED": "bad",
}


@register.simple_tag
def badge(status: str, extra: str = "") -> str:
    """A coloured status pill: `{% badge trial.status %}`."""
    kind = _BADGE_CLASS.get(str(status), "neutral")
    return format_html('<span class="badge badge-{} {}">{}</span>', kind, extra, status)


@register.filter
def duration(value: timedelta | float | None) -> str:
    """3.2 s, 4 min 05 s, 2 h 03 min."""
    if value is None or value == "":
        return "–"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def elapsed(start: datetime | None, end: datetime | None) -> str:
    if start is None:
        return "–"
    from django.utils import timezone

    return duration((end or timezone.now()) - start)


@register.filter
def score(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.4g}"


@register.filter
def filesize(value: int | None) -> str:
    if value is None:
        return "–"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@register.filter
def knob_value(value: Any) -> str:
    """A knob value as the user wrote it: floats short, lists and strings as JSON."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.simple_tag(takes_context=True)
def sort_link(context: dict, field: str, label: str) -> str:
    """A table header that sorts by `field` (toggling direction), keeping other query args."""
    request = context["request"]
    current = request.GET.get("sort", "")
    params = request.GET.copy()
    params.pop("page", None)
    descending = current == field
    params["sort"] = f"-{field}" if descending else field
    arrow = ""
    if current == field:
        arrow = " ▲"
    elif current == f"-{field}":
        arrow = " ▼"
    return format_html('<a class="sort" href="?{}">{}{}</a>', params.urlencode(), label, arrow)
