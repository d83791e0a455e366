"""Per-trial downsampled METRICS rows, kept up to date as the worker stores log rows, so the
trial page charts a 50,000-point trial without reading and decoding every row.

For each metric the summary keeps the rows holding its lowest and highest value in every bucket
of ``bucket`` consecutive METRICS rows; when more buckets than the limit would be needed, the
bucket size doubles. The extremes of a merged bucket are among the extremes of its halves, so
folding rows in batches keeps the same rows as folding them all at once, and spikes and dips
survive. Charts read the summary plus the rows stored after its cursor (fewer than
``FOLD_EVERY`` of them once the summary is current).

Two writers may fold the same trial: the worker (`trial_metric_summary_on_rows`, called as it
stores rows) and the trial page (for trials logged before summaries existed). Each writes only
if the summary is still the one it read, so neither undoes the other's newer fold.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from apps.trials.models import TrialLog, TrialMetricSummary
from apps.trials.selectors import trial_metric_rows_with_ids

log = logging.getLogger(__name__)

#: Fold once this many METRICS rows wait after the summary's cursor.
FOLD_EVERY = 2000
#: Bucket limits: at most KEPT_ROWS_TARGET // (2 * metrics) buckets, within these bounds, so a
#: summary stays around 8,000 rows whatever the number of metrics.
MIN_BUCKETS = 100
MAX_BUCKETS = 1000
KEPT_ROWS_TARGET = 4000

#: A kept row: [seq (its METRICS row number), log row id, time text, {metric: value}].
KeptRow = list


def _is_number(value: Any) -> bool:
    return value.__class__ in (int, float) and math.isfinite(value)


def summary_fold(
    summary: dict[str, Any], rows: Sequence[tuple[int, str, dict[str, Any]]]
) -> dict[str, Any]:
    """``summary`` ({"seen", "bucket", "metrics", "rows"}) with the METRICS ``rows`` (id, time,
    values), which come after everything in it, folded in. Pure: no queries."""
    seen = summary["seen"]
    old: list[KeptRow] = summary["rows"]
    new: list[KeptRow] = [
        [seen + i, row_id, time, values] for i, (row_id, time, values) in enumerate(rows)
    ]
    seen += len(rows)
    metrics = {
        name for row in old[-1:] + new for name, value in row[3].items() if _is_number(value)
    }
    metrics |= set(summary["metrics"])
    limit = min(MAX_BUCKETS, max(MIN_BUCKETS, KEPT_ROWS_TARGET // (2 * max(1, len(metrics)))))
    bucket = summary["bucket"]
    while -(-seen // bucket) > limit:
        bucket *= 2
    if bucket == summary["bucket"] and new:
        # Buckets before the first new row's are already reduced and stay as they are.
        first_open = new[0][0] // bucket
        split = len(old)
        while split and old[split - 1][0] // bucket >= first_open:
            split -= 1
        done, open_rows = old[:split], old[split:] + new
    else:
        done, open_rows = [], old + new
    return {
        "seen": seen,
        "bucket": bucket,
        "metrics": sorted(metrics),
        "rows": done + _extremes(open_rows, bucket),
    }


def _extremes(rows: list[KeptRow], bucket: int) -> list[KeptRow]:
    """The rows holding each metric's lowest and highest value in each bucket, in order."""
    # (bucket number, metric) -> [index of the lowest row, lowest, index of the highest, highest];
    # strict comparisons keep the first of equal values, in any folding order.
    extremes: dict[tuple[int, str], list] = {}
    isfinite = math.isfinite
    for index, (seq, _, _, values) in enumerate(rows):
        number = seq // bucket
        for name, value in values.items():
            if value.__class__ not in (int, float) or not isfinite(value):
                continue
            slot = extremes.get((number, name))
            if slot is None:
                extremes[(number, name)] = [index, value, index, value]
                continue
            if value < slot[1]:
                slot[0], slot[1] = index, value
            if value > slot[3]:
                slot[2], slot[3] = index, value
    keep = sorted({i for low, _, high, _ in extremes.values() for i in (low, high)})
    return [rows[i] for i in keep]


def trial_metric_summary_update(*, trial_id: int, attempt: int, fold_at: int = FOLD_EVERY) -> bool:
    """Fold the trial's METRICS rows stored after the summary's cursor into it, once at least
    ``fold_at`` of them wait (a summary of another attempt is started over). Returns whether it
    wrote. Cheap when there is nothing to do: two small indexed queries."""
    current = (
        TrialMetricSummary.objects.filter(trial_id=trial_id)
        .values_list("attempt", "cursor")
        .first()
    )
    cursor = current[1] if current and current[0] == attempt else 0
    waiting = TrialLog.objects.filter(trial_id=trial_id, type=TrialLog.Type.METRICS, id__gt=cursor)[
        :fold_at
    ].count()
    if waiting < fold_at:
        return False
    if current and current[0] == attempt:
        summary = (
            TrialMetricSummary.objects.filter(trial_id=trial_id)
            .values("seen", "bucket", "metrics", "rows")
            .first()
        )
        if summary is None:  # deleted meanwhile (the trial was deleted)
            return False
    else:
        summary = {"seen": 0, "bucket": 1, "metrics": [], "rows": []}
    rows = trial_metric_rows_with_ids(trial_id=trial_id, after_id=cursor)
    if not rows:
        return False
    folded = summary_fold(summary, rows)
    fields = {**folded, "attempt": attempt, "cursor": rows[-1][0]}
    if current is None:
        try:
            with transaction.atomic():
                TrialMetricSummary.objects.create(trial_id=trial_id, **fields)
        except IntegrityError:  # another writer created it first; its fold stands
            return False
        return True
    written = TrialMetricSummary.objects.filter(
        trial_id=trial_id, attempt=current[0], cursor=current[1]
    ).update(**fields)
    return bool(written)


def trial_metric_summary_on_rows(*, trial_id: int, attempt: int, rows: Sequence[TrialLog]) -> None:
    """The worker's hook, called after it stored a batch of a trial's log rows: keeps the
    trial's metric summary current. A failure here only makes the trial page read more rows,
    so it is logged, never raised into the trial."""
    if not any(row.type == TrialLog.Type.METRICS for row in rows):
        return
    try:
        trial_metric_summary_update(trial_id=trial_id, attempt=attempt)
    except Exception:
        log.exception("updating the metric summary of trial %s failed", trial_id)
