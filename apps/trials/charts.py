"""Plotly figure dicts for the job and trial pages, built from selector output (no queries).

Templates embed the figures with `json_script`; `static/js/job.js` and `static/js/trial.js`
draw them with the vendored plotly.js. Long series are downsampled keeping their shape: each
bucket of points keeps its minimum and maximum, so spikes and dips survive.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

#: Points per trace sent to the browser; longer series are downsampled.
MAX_POINTS = 2000

_LAYOUT = {
    # A tall top margin: the title, the legend under it at the right, the tool bar above that.
    "margin": {"l": 56, "r": 16, "t": 72, "b": 44},
    "font": {
        "family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
        "size": 12,
        "color": "#1d2433",
    },
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
    "hovermode": "closest",
    # Just above the plot at the right (below it, the legend ran into angled date ticks).
    "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
}
_AXIS = {
    "gridcolor": "#eef1f6",
    "zerolinecolor": "#dde3ec",
    "linecolor": "#cfd6e2",
    "automargin": True,
}
COLORS = ["#3b5bdb", "#e8590c", "#2b8a3e", "#ae3ec9", "#1098ad", "#f08c00", "#c92a2a", "#5c940d"]


def downsample_indices(ys: Sequence[float], max_points: int = MAX_POINTS) -> list[int]:
    """Indices of at most ``max_points`` points of the series ``ys`` that keep its shape: the
    series is split into max_points/2 equal buckets and each keeps its lowest and highest point,
    in their original order. Non-finite values are dropped."""
    values = np.asarray(ys, dtype=float)
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) <= max_points:
        return finite.tolist()
    values = values[finite]
    n = len(values)
    buckets = max(1, max_points // 2)
    bucket = (np.arange(n) * buckets) // n
    order = np.lexsort((values, bucket))  # by bucket, then by value within the bucket
    starts = np.searchsorted(bucket[order], np.arange(buckets))
    ends = np.append(starts[1:], n) - 1
    keep = np.unique(np.concatenate([order[starts], order[ends]]))
    return finite[keep].tolist()


def downsample_minmax(
    xs: Sequence[Any], ys: Sequence[float], max_points: int = MAX_POINTS
) -> tuple[list, list]:
    """(xs, ys) cut to at most ``max_points`` points by ``downsample_indices``."""
    keep = downsample_indices(ys, max_points)
    return [xs[i] for i in keep], [ys[i] for i in keep]


def _x_value(x: Any) -> Any:
    """Plotly reads dates as "YYYY-MM-DD HH:MM:SS.ffffff" (no time zone); times are UTC."""
    if isinstance(x, datetime):
        return x.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return x


def plot_series(
    plot: dict[str, Any], rows: Sequence[tuple[Any, dict[str, Any]]], max_points: int | None = None
) -> list[tuple[list, list]]:
    """For each metric of ``plot``, the (xs, ys) found in METRICS ``rows`` (time, values): a
    row counts for a metric when it has that metric and, if the plot has an ``x_axis``, that
    too; without an x_axis the row's time is x. With ``max_points``, each series is
    downsampled (before x values are formatted, which is what costs on long series)."""
    x_axis = plot.get("x_axis")
    series: list[tuple[list, list]] = []
    for metric in plot.get("metrics", []):
        if x_axis:
            hits = [
                (values[x_axis], values[metric])
                for _, values in rows
                if metric in values and x_axis in values
            ]
        else:
            hits = [(time, values[metric]) for time, values in rows if metric in values]
        hits = [(x, y) for x, y in hits if x is not None and y is not None]
        if max_points is not None:
            hits = [hits[i] for i in downsample_indices([y for _, y in hits], max_points)]
        series.append(([_x_value(x) for x, _ in hits], [y for _, y in hits]))
    return series


Series = list[tuple[list, list]]


def plot_figure(
    plot: dict[str, Any],
    rows: Sequence[tuple[Any, dict[str, Any]]] | None = None,
    max_points: int = MAX_POINTS,
    *,
    series: Series | None = None,
) -> dict:
    """One figure for a plot the model defined: its title, one line per metric on y, its
    x_axis (or time) on x. From METRICS ``rows``, or from a ready ``series``."""
    x_axis = plot.get("x_axis")
    if series is None:
        series = plot_series(plot, rows or [], max_points)
    traces = []
    for i, (metric, (xs, ys)) in enumerate(zip(plot.get("metrics", []), series)):
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers" if len(ys) <= 60 else "lines",
                "name": metric,
                "x": xs,
                "y": ys,
                "line": {"color": COLORS[i % len(COLORS)], "width": 2},
                "marker": {"size": 5},
            }
        )
    return {
        "data": traces,
        "layout": {
            **_LAYOUT,
            "title": {"text": plot.get("title") or "", "x": 0.02, "font": {"size": 14}},
            "xaxis": {
                **_AXIS,
                "title": {"text": x_axis or "time"},
                **({} if x_axis else {"type": "date"}),
            },
            "yaxis": {**_AXIS, "title": {"text": ", ".join(plot.get("metrics", []))}},
            "showlegend": len(traces) > 1,
        },
    }


def plot_extensions(
    plots: Sequence[dict[str, Any]], rows: Sequence[tuple[Any, dict[str, Any]]]
) -> list[dict]:
    """New points for figures already drawn: per plot {"x": [[...] per trace], "y": [...]}
    for Plotly.extendTraces (empty lists when a plot got nothing new)."""
    out = []
    for plot in plots:
        series = plot_series(plot, rows)
        out.append({"x": [xs for xs, _ in series], "y": [ys for _, ys in series]})
    return out


def plot_key(plot: dict[str, Any]) -> str:
    return json.dumps(plot, sort_keys=True)


def best_score_figure(
    points: Sequence[tuple[datetime, float, int]], max_points: int = MAX_POINTS
) -> dict:
    """Each completed trial's score over time (dots) and the best score so far (a step line)."""
    times = [_x_value(t) for t, _, _ in points]
    scores = [s for _, s, _ in points]
    numbers = [n for _, _, n in points]
    best_x, best_y, best_n = [], [], []
    best = None
    for x, s, n in zip(times, scores, numbers):
        if best is None or s > best:
            best = s
            best_x.append(x)
            best_y.append(s)
            best_n.append(n)
    if best_x:  # carry the line to the last trial
        best_x.append(times[-1])
        best_y.append(best_y[-1])
        best_n.append(best_n[-1])
    if len(scores) > max_points:
        step = len(scores) / max_points
        idx = [int(i * step) for i in range(max_points)]
        times, scores, numbers = (
            [times[i] for i in idx],
            [scores[i] for i in idx],
            [numbers[i] for i in idx],
        )
    return {
        # The line first, so each trial's dot is drawn on top of it.
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "best so far",
                "x": best_x,
                "y": best_y,
                "customdata": best_n,
                "hovertemplate": "best: trial %{customdata}<br>score %{y:.4g}<extra></extra>",
                "line": {"shape": "hv", "color": COLORS[0], "width": 2.5},
            },
            {
                "type": "scattergl" if len(scores) > 1000 else "scatter",
                "mode": "markers",
                "name": "trial score",
                "x": times,
                "y": scores,
                "customdata": numbers,
                "hovertemplate": "trial %{customdata}<br>score %{y:.4g}<extra></extra>",
                "marker": {"color": "#868e96", "size": 6},
            },
        ],
        "layout": {
            **_LAYOUT,
            "title": {"text": "Best score over time", "x": 0.02, "font": {"size": 14}},
            "xaxis": {**_AXIS, "type": "date", "title": {"text": "trial ended"}},
            "yaxis": {**_AXIS, "title": {"text": "score"}},
        },
    }


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


#: Characters of an axis name or category shown on the parallel-coordinates chart; axes sit
#: about 100 px apart, so longer text runs into the next axis (hover shows the whole value).
AXIS_TEXT_CHARS = 14


def _short(text: str, limit: int = AXIS_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dimension(name: str, values: list[Any]) -> dict | None:
    """A parcoords axis: numbers as they are; anything else (strings, bools, lists) as
    categories with tick labels. Knobs that never vary are left out."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(type(v) in (int, float) for v in present):
        if min(present) == max(present):
            return None
        return {"label": _short(name), "values": values}
    labels = sorted({_label(v) for v in present})
    if len(labels) < 2:
        return None
    index = {label: i for i, label in enumerate(labels)}
    return {
        "label": _short(name),
        "values": [index[_label(v)] if v is not None else None for v in values],
        "tickvals": list(range(len(labels))),
        "ticktext": [_short(label) for label in labels],
    }


def knobs_figure(rows: Sequence[tuple[int, dict[str, Any], float]]) -> dict | None:
    """Parallel coordinates: one axis per knob that varies, the score last, lines coloured by
    score. None when fewer than two trials completed or no knob varies."""
    if len(rows) < 2:
        return None
    names: list[str] = []
    for _, knobs, _ in rows:
        for name in knobs:
            if name not in names:
                names.append(name)
    dimensions = []
    for name in names:
        dim = _dimension(name, [knobs.get(name) for _, knobs, _ in rows])
        if dim:
            dimensions.append(dim)
    if not dimensions:
        return None
    scores = [s for _, _, s in rows]
    dimensions.append({"label": "score", "values": scores})
    return {
        "data": [
            {
                "type": "parcoords",
                "line": {
                    "color": scores,
                    "colorscale": "Viridis",
                    "showscale": True,
                    "colorbar": {"title": {"text": "score"}},
                },
                "dimensions": dimensions,
                "labelfont": {"size": 11},
                "tickfont": {"size": 10},
            }
        ],
        "layout": {
            **_LAYOUT,
            # Room for the first axis' category labels, drawn to its left.
            "margin": {"l": 100, "r": 60, "t": 90, "b": 30},
            "title": {"text": "Knobs against score", "x": 0.02, "font": {"size": 14}},
        },
    }
