import numpy as np
import pytest

from rafiki.model import load_params, save_params
from rafiki.model.params import InvalidParamsError, validate_params


def test_round_trip_keeps_dtype_shape_and_values(tmp_path):
    rng = np.random.default_rng(0)
    params = {
        "weights": rng.standard_normal((300, 40)).astype(np.float32),
        "ints": np.arange(10, dtype=np.int64).reshape(2, 5),
        "big_endian": np.arange(4, dtype=">u2"),
        "fortran": np.asfortranarray(rng.standard_normal((3, 4))),
        "scalar_array": np.array(3.5),
        "empty": np.zeros((0, 3), dtype=np.float16),
        "labels": np.array(["cat", "dog"]),
        "bools": np.array([True, False]),
        "name": "mlp",
        "unicode": "naïve ✓",
        "count": 12345678901234,
        "lr": 0.001,
        "inf": float("inf"),
    }
    path = tmp_path / "p.rfp"
    save_params(params, str(path))
    back = load_params(str(path))
    assert set(back) == set(params)
    for name, value in params.items():
        if isinstance(value, np.ndarray):
            assert back[name].dtype == value.dtype, name
            assert back[name].shape == value.shape, name
            np.testing.assert_array_equal(back[name], value)
        else:
            assert back[name] == value and type(back[name]) is type(value), name


def test_large_array_round_trip(tmp_path):
    big = np.random.default_rng(1).standard_normal(8_000_000).astype(np.float32)  # 32 MB
    path = tmp_path / "big.rfp"
    save_params({"big": big, "meta": "x"}, str(path))
    back = load_params(str(path))
    assert np.array_equal(back["big"], big)
    assert path.stat().st_size < big.nbytes + 4096


def test_numpy_scalars_are_stored_as_python_scalars(tmp_path):
    path = tmp_path / "p.rfp"
    save_params({"n": np.int32(3), "x": np.float64(0.5)}, str(path))
    assert load_params(str(path)) == {"n": 3, "x": 0.5}


@pytest.mark.parametrize(
    "params, message",
    [
        ([1, 2], "must be a dict"),
        ({1: 2}, "names must be strings"),
        ({"w": [1, 2]}, "parameter 'w' is a list"),
        ({"w": np.array([object()])}, "dtype object"),
        ({"w": b"bytes"}, "parameter 'w' is a bytes"),
        ({"w": True}, "parameter 'w' is a bool"),
        ({"w": {"nested": 1}}, "parameter 'w' is a dict"),
    ],
)
def test_invalid_params_are_clear_errors(params, message):
    with pytest.raises(InvalidParamsError, match=message):
        validate_params(params)


def test_a_pickle_or_garbage_is_not_loaded(tmp_path):
    import pickle

    path = tmp_path / "evil.rfp"
    path.write_bytes(pickle.dumps({"w": 1}))
    with pytest.raises(InvalidParamsError, match="not a Rafiki params file"):
        load_params(str(path))
    good = tmp_path / "good.rfp"
    save_params({"w": np.ones(1000)}, str(good))
    data = good.read_bytes()
    truncated = tmp_path / "trunc.rfp"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidParamsError, match="malformed"):
        load_params(str(truncated))
    with pytest.raises(InvalidParamsError, match="over the limit"):
        load_params(str(good), max_bytes=100)
