"""The chart module: downsampling keeps a long series' shape."""

from __future__ import annotations

import math

from apps.trials import charts


def test_a_short_series_is_left_alone():
    xs, ys = list(range(10)), [float(i) for i in range(10)]
    assert charts.downsample_minmax(xs, ys, 100) == (xs, ys)


def test_downsampling_keeps_spikes_dips_and_order():
    n = 50_000
    ys = [math.sin(i / 500) for i in range(n)]
    ys[12_345] = 40.0  # a spike one point wide
    ys[33_333] = -40.0  # and a dip
    xs = list(range(n))
    out_x, out_y = charts.downsample_minmax(xs, ys, 2000)
    assert len(out_y) <= 2000
    assert 40.0 in out_y and -40.0 in out_y
    assert out_x == sorted(out_x)
    assert out_x[0] < 100 and out_x[-1] > n - 100  # spans the whole series


def test_non_finite_points_are_dropped():
    xs, ys = charts.downsample_minmax([0, 1, 2], [1.0, float("nan"), 2.0], 10)
    assert ys == [1.0, 2.0] and xs == [0, 2]


def test_plot_against_time_uses_a_date_axis_and_plotly_readable_times():
    from datetime import UTC, datetime

    when = datetime(2024, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    figure = charts.plot_figure(
        {"title": "T", "metrics": ["a"], "x_axis": None}, [(when, {"a": 1.0})]
    )
    assert figure["layout"]["xaxis"]["type"] == "date"
    assert figure["data"][0]["x"] == ["2024-01-02 03:04:05.600000"]


def test_knobs_figure_encodes_categories_and_skips_fixed_knobs():
    rows = [
        (1, {"opt": "adam", "lr": 0.1, "fixed": 3}, 0.5),
        (2, {"opt": "sgd", "lr": 0.01, "fixed": 3}, 0.7),
    ]
    figure = charts.knobs_figure(rows)
    dims = {d["label"]: d for d in figure["data"][0]["dimensions"]}
    assert set(dims) == {"opt", "lr", "score"}
    assert dims["opt"]["ticktext"] == ["adam", "sgd"] and dims["opt"]["values"] == [0, 1]
    assert charts.knobs_figure(rows[:1]) is None
