"""Plotly figure dicts for the job and trial pages, built from selector output (no queries).

Templates embed the figures with `json_script`; `static/js/job.js` and `static/js/trial.js`
draw them with the vendored plotly.js. Long series are downsampled keeping their shape: each
bucket of points keeps its minimum and maximum, so spikes and dips survive.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

import numpy as np

#: Points per trace sent to the browser; longer series are downsampled.
MAX_POINTS = 2000

_LAYOUT = {
    "margin": {"l": 56, "r": 16, "t": 40, "b": 44},
    "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12, "color": "#1d2433"},
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
    "hovermode": "closest",
    "legend": {"orientation": "h", "y": -0.22},
}
_AXIS = {"gridcolor": "#eef1f6", "zerolinecolor": "#dde3ec", "linecolor": "#cfd6e2"}
COLORS = ["#3b5bdb", "#e8590c", "#2b8a3e", "#ae3ec9", "#1098ad", "#f08c00", "#c92a2a", "#5c940d"]


def downsample_minmax(xs: Sequence[Any], ys: Sequence[float], max_points: int = MAX_POINTS) -> tuple[list, list]:
    """At most ``max_points`` of the series: split it into max_points/2 buckets and keep each
    bucket's lowest and highest point, in their original order."""
    n = len(ys)
    if n <= max_points:
        return list(xs), list(ys)
    values = np.asarray(ys, dtype=float)
    buckets = max(1, max_points // 2)
    edges = np.linspace(0, n, buckets + 1).astype(int)
    keep: list[int] = []
    for start, stop in pairwise(edges.tolist()):
        if stop <= start:
            continue
        chunk = values[start:stop]
        if np.isnan(chunk).all():
            keep.append(int(start))
            continue
        lo = start + int(np.nanargmin(chunk))
        hi = start + int(np.nanargmax(chunk))
        keep.extend(sorted({lo, hi}))
    return [xs[i] for i in keep], [ys[i] for i in keep]


def _x_value(x: Any) -> Any:
    return x.isoformat() if isinstance(x, datetime) else x


def plot_series(plot: dict[str, Any], rows: Sequence[tuple[datetime, dict[str, Any]]]) -> list[tuple[list, list]]:
    """For each metric of ``plot``, the (xs, ys) found in METRICS ``rows``: a row counts for a
    metric when it has that metric and, if the plot has an ``x_axis``, that too; without an
    x_axis the row's time is x."""
    x_axis = plot.get("x_axis")
    series: list[tuple[list, list]] = []
    for metric in plot.get("metrics", []):
        xs: list = []
        ys: list = []
        for time, values in rows:
            y = values.get(metric)
            if y is None:
                continue
            if x_axis:
                x = values.get(x_axis)
                if x is None:
                    continue
            else:
                x = time
            xs.append(_x_value(x))
            ys.append(y)
        series.append((xs, ys))
    return series


def plot_figure(plot: dict[str, Any], rows: Sequence[tuple[datetime, dict[str, Any]]], max_points: int = MAX_POINTS) -> dict:
    """One figure for a plot the model defined: its title, one line per metric on y, its
    x_axis (or time) on x."""
    x_axis = plot.get("x_axis")
    traces = []
    for i, (metric, (xs, ys)) in enumerate(zip(plot.get("metrics", []), plot_series(plot, rows))):
        xs, ys = downsample_minmax(xs, ys, max_points)
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
            "xaxis": {**_AXIS, "title": {"text": x_axis or "time"}, **({} if x_axis else {"type": "date"})},
            "yaxis": {**_AXIS, "title": {"text": ", ".join(plot.get("metrics", []))}},
            "showlegend": len(traces) > 1,
        },
    }


def plot_extensions(plots: Sequence[dict[str, Any]], rows: Sequence[tuple[datetime, dict[str, Any]]]) -> list[dict]:
    """New points for figures already drawn: per plot {"x": [[...] per trace], "y": [...]}
    for Plotly.extendTraces (empty lists when a plot got nothing new)."""
    out = []
    for plot in plots:
        series = plot_series(plot, rows)
        out.append({"x": [xs for xs, _ in series], "y": [ys for _, ys in series]})
    return out


def plot_key(plot: dict[str, Any]) -> str:
    return json.dumps(plot, sort_keys=True)


def best_score_figure(points: Sequence[tuple[datetime, float, int]], max_points: int = MAX_POINTS) -> dict:
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
        times, scores, numbers = [times[i] for i in idx], [scores[i] for i in idx], [numbers[i] for i in idx]
    return {
        "data": [
            {
                "type": "scattergl" if len(scores) > 1000 else "scatter",
                "mode": "markers",
                "name": "trial score",
                "x": times,
                "y": scores,
                "customdata": numbers,
                "hovertemplate": "trial %{customdata}<br>score %{y:.4g}<extra></extra>",
                "marker": {"color": "#adb5bd", "size": 6},
            },
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
        ],
        "layout": {
            **_LAYOUT,
            "title": {"text": "Best score over time", "x": 0.02, "font": {"size": 14}},
            "xaxis": {**_AXIS, "type": "date", "title": {"text": "trial ended"}},
            "yaxis": {**_AXIS, "title": {"text": "score"}},
        },
    }


def _dimension(name: str, values: list[Any]) -> dict | None:
    """A parcoords axis: numbers as they are; anything else (strings, bools, lists) as
    categories with tick labels. Knobs that never vary are left out."""
    present = [v for v in values if v is not None]
    if not present or len({json.dumps(v, sort_keys=True) for v in present}) < 2:
        return None
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        numeric = [float(v) if v is not None else None for v in values]
        return {"label": name, "values": numeric}
    labels = sorted({json.dumps(v) if not isinstance(v, str) else v for v in present})
    index = {label: i for i, label in enumerate(labels)}
    encoded = [index[json.dumps(v) if not isinstance(v, str) else v] if v is not None else None for v in values]
    return {
        "label": name,
        "values": encoded,
        "tickvals": list(range(len(labels))),
        "ticktext": [label[:24] for label in labels],
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
                "line": {"color": scores, "colorscale": "Viridis", "showscale": True, "colorbar": {"title": {"text": "score"}}},
                "dimensions": dimensions,
            }
        ],
        "layout": {
            **_LAYOUT,
            "margin": {"l": 60, "r": 60, "t": 70, "b": 30},
            "title": {"text": "Knobs against score", "x": 0.02, "font": {"size": 14}},
        },
    }
