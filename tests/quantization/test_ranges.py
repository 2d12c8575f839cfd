"""Range choices and the FakeQuantize limits and int8 weights they give."""

import numpy as np
import pytest

from gpu_int8.quantization.insert import int8_weights
from gpu_int8.quantization.ranges import Extrema, Histograms, best_clip, fake_quantize_limits


def _collect(arrays, name="v"):
    extrema = Extrema([name])
    for a in arrays:
        extrema.observe(name, a)
    histograms = Histograms(extrema)
    for a in arrays:
        histograms.observe(name, a)
    return extrema, histograms


def test_extrema_methods():
    extrema, _ = _collect([np.array([-1.0, 2.0]), np.array([-3.0, 4.0])])
    assert extrema.ranges("minmax") == {"v": (-3.0, 4.0)}
    assert extrema.ranges("mean_max") == {"v": (-3.0, 3.0)}  # mean of |.|max: (2 + 4) / 2
    extrema, _ = _collect([np.array([0.0, 2.0]), np.array([1.0, 4.0])])
    assert extrema.ranges("mean_max") == {"v": (0.0, 3.0)}


def test_mse_keeps_a_dense_range_and_clips_a_thin_tail():
    rng = np.random.default_rng(0)
    _, histograms = _collect([rng.uniform(0, 1, 100_000).astype(np.float32)])
    low, high = histograms.ranges()["v"]
    assert low == 0 and high == pytest.approx(1.0, abs=0.01)
    gaussian = rng.standard_normal(1_000_000).astype(np.float32)
    _, histograms = _collect([gaussian])
    low, high = histograms.ranges()["v"]
    assert low == -high and 3.5 < high < 0.9 * np.abs(gaussian).max()  # the last few values clip


def test_best_clip_matches_a_brute_force_error_sum():
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 50, 64)
    limit, steps, offset = 8.0, 255, 0.5
    width = limit / 64
    centers = (np.arange(64) + 0.5) * width
    errors = [sum(c * (((a + offset) / steps) ** 2 / 12 if x <= a else (x - a) ** 2) for c, x in zip(counts, centers))
              for a in (np.arange(64) + 1) * width]
    assert best_clip(counts, limit, steps, offset) == pytest.approx((np.argmin(errors) + 1) * width)


def test_exact_zeros_do_not_count_as_rounding_noise():
    relu_like = np.concatenate([np.zeros(1_000_000), np.random.default_rng(2).uniform(0, 1, 1000)])
    _, histograms = _collect([relu_like.astype(np.float32)])
    assert histograms.ranges()["v"][1] == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("low, high, expect", [
    (0.0, 6.0, (0.0, 6.0)),  # u8
    (-4.0, 3.0, (-4.0, 4.0 * 127 / 128)),  # symmetric i8: step 4/128, no zero point
    (-0.375, 6.0, None),  # HSwish-like: asymmetric, 0 on the grid
])
def test_fake_quantize_limits(low, high, expect):
    il, ih = fake_quantize_limits(low, high)
    assert il.dtype == ih.dtype == np.float32
    if expect is not None:
        assert (float(il), float(ih)) == pytest.approx(expect)
        return
    step = (ih - il) / 255
    zero = -il / step
    assert zero == pytest.approx(round(zero), abs=1e-3) and 1 <= round(zero) <= 254
    assert il <= low and ih >= high - step


def test_a_range_that_never_moved_gets_a_tiny_positive_one():
    il, ih = fake_quantize_limits(0.0, 0.0)
    assert il == 0 and ih > 0


def test_int8_weights_per_output_channel():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 3, 2, 2)).astype(np.float32)
    w[2] = 0  # a dead channel keeps scale 1
    q, scale = int8_weights(w, (0,))
    assert q.dtype == np.int8 and scale.shape == (4, 1, 1, 1) and scale[2, 0, 0, 0] == 1
    assert np.abs(q).max() == 127 and q.min() >= -127
    assert np.all(np.abs(q * scale - w) <= scale / 2 + 1e-7)
    q, scale = int8_weights(rng.standard_normal((2, 3, 1, 3, 3)).astype(np.float32), (0, 1))
    assert scale.shape == (2, 3, 1, 1, 1)


def test_per_channel_ranges_are_each_channels_largest_magnitude():
    extrema = Extrema(["v"], per_channel=["v"])
    extrema.observe("v", np.array([[[1.0, -2.0]], [[0.5, 3.0]]]).reshape(1, 2, 2))  # channels (1, -2), (0.5, 3)
    extrema.observe("v", np.array([[4.0, 0.0], [0.0, 1.0]]).reshape(1, 2, 2))
    low, high = extrema.channel_ranges()["v"]
    np.testing.assert_array_equal(high, [4.0, 3.0])
    np.testing.assert_array_equal(low, [-4.0, -3.0])  # a negative channel makes every channel symmetric
    assert extrema.ranges("minmax") == {}  # per-channel values are left to channel_ranges
    il, ih = fake_quantize_limits(low, high)
    np.testing.assert_allclose(il, [-4.0, -3.0])
    np.testing.assert_allclose(ih, [4 * 127 / 128, 3 * 127 / 128])
