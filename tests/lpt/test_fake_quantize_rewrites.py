"""FakeQuantize decomposition (activations) and folding (weights): before/after graphs."""

import numpy as np
import pytest

from gpu_int8.lpt.fake_quantize_decomposition import decompose_fake_quantize
from gpu_int8.lpt.fold_weight_fake_quantize import fold_weight_fake_quantize
from tests.lpt.dsl import Net, assert_same_graph, lpt_rewrite, rewrite, run_float

SHAPE = [1, 2, 5, 6]


def _x(seed=0):
    return {"x": np.random.default_rng(seed).uniform(-3, 6, SHAPE).astype(np.float32)}


@pytest.mark.parametrize("ranges, dtype, qmin, qmax, sub, mul", [
    ((0.0, 2.55, 0.0, 2.55), "u8", 0, 255, None, 0.01),  # non-negative: u8, zero point 0
    ((-1.28, 1.27, -1.28, 1.27), "i8", -128, 127, None, 0.01),  # NNCF's symmetric signed
    ((-0.5, 2.05, -0.5, 2.05), "i8", -128, 127, -78.0, 0.01),  # asymmetric: integer zero point
    (([0.0, 0.0], [2.55, 5.1], [0.0, 0.0], [2.55, 5.1]), "u8", 0, 255, None, [0.01, 0.02]),  # per channel
])
def test_activation_fake_quantize_becomes_quantize_and_dequantization(ranges, dtype, qmin, qmax, sub, mul):
    il, ih, ol, oh = ranges
    before = Net().input("f32", SHAPE).fake_quantize(il, ih, ol, oh).op("Relu").build()
    expected = (Net().input("f32", SHAPE).quantize(il, ih, qmin, qmax, dtype).dequantize(sub=sub, mul=mul)
                .op("Relu").build())
    after = rewrite(decompose_fake_quantize, before)
    assert_same_graph(after, expected)
    # the decomposition computes what the FakeQuantize computed
    np.testing.assert_allclose(run_float(after, _x())[after.outputs[0]],
                               run_float(before, _x())[before.outputs[0]], rtol=1e-6, atol=1e-6)


def test_levels_255_use_the_symmetric_int8_range():
    before = Net().input("f32", SHAPE).fake_quantize(-1.27, 1.27, -1.27, 1.27, levels=255).build()
    expected = (Net().input("f32", SHAPE).quantize(-1.27, 1.27, -127, 127, "i8", levels=255)
                .dequantize(mul=0.01).build())
    assert_same_graph(rewrite(decompose_fake_quantize, before), expected)


def test_records_what_the_integers_mean():
    before = Net().input("f32", SHAPE).fake_quantize(-0.5, 2.05, -0.5, 2.05).build()
    g = lpt_rewrite(decompose_fake_quantize, before)
    (q,) = [v for v in g.graph.values if g.graph.values[v].dtype == np.int8]
    assert g.origins[q] == before.outputs[0]
    np.testing.assert_allclose(g.qparams[q].scale, [0.01], rtol=1e-6)
    assert g.qparams[q].zero_point.tolist() == [-78.0]


def test_fake_quantize_that_is_not_8_bit_stays():
    before = Net().input("f32", SHAPE).fake_quantize(0.0, 1.5, 0.0, 1.5, levels=16).build()
    g = lpt_rewrite(decompose_fake_quantize, before)
    assert_same_graph(g.graph, before)
    assert "16 levels" in next(iter(g.refusals.values()))


def test_weight_fake_quantize_folds_into_an_int8_constant():
    rng = np.random.default_rng(1)
    w = rng.uniform(-1, 1, (3, 2, 1, 1)).astype(np.float32)
    amax = np.abs(w).reshape(3, -1).max(axis=1).reshape(3, 1, 1, 1).astype(np.float32)
    net = Net().input("f32", SHAPE)
    fq_w = net.const(w)
    lo, hi = net.const(-amax), net.const(amax)
    net.op("FakeQuantize", lo, hi, lo, hi, first=fq_w, levels=255)
    weights = net.out
    before = net.op("Convolution", weights, first="x", strides=[1, 1]).build()
    after = rewrite(fold_weight_fake_quantize, before)
    q = np.rint((w + amax) / (2 * amax) * 254) - 127
    scale = (2 * amax / 254).astype(np.float32)
    exp = Net().input("f32", SHAPE)
    weights = exp.weights(q.astype(np.int8), scale)
    expected = exp.op("Convolution", weights, first="x", strides=[1, 1]).build()
    assert_same_graph(after, expected)
    np.testing.assert_allclose(run_float(after, _x())[after.outputs[0]],
                               run_float(before, _x())[before.outputs[0]], rtol=1e-5, atol=1e-5)
