"""Convolution and MatMul on int8 inputs and int8 weights: int32 accumulation, the
dequantization after the op, the activation zero point as a per-channel term."""

import numpy as np
import pytest

from gpu_int8.lpt.lower_convolution import lower_convolution
from gpu_int8.lpt.lower_matmul import lower_matmul
from gpu_int8.lpt.requantize_per_channel import requantize_per_channel
from tests.lpt.dsl import Net, assert_same_graph, lpt_rewrite, rewrite, run_float

SHAPE = [1, 4, 6, 6]
RNG = np.random.default_rng(3)
W = RNG.integers(-127, 128, (3, 4, 3, 3)).astype(np.int8)
W_SCALE = np.array([0.01, 0.02, 0.03], np.float32).reshape(3, 1, 1, 1)
CONV = dict(strides=[1, 1], dilations=[1, 1], pads_begin=[1, 1], pads_end=[1, 1], auto_pad="explicit")


def _same_numbers(before, after, dtype):
    info = np.iinfo(dtype)
    feeds = {"x": RNG.integers(info.min, info.max + 1, SHAPE).astype(dtype)}
    np.testing.assert_allclose(run_float(after, feeds)[after.outputs[0]], run_float(before, feeds)[before.outputs[0]],
                               rtol=1e-5, atol=1e-5)


def test_convolution_u8_runs_on_integers_and_dequantizes_after():
    net = Net().input("u8", SHAPE).dequantize(mul=0.05)
    before = net.op("Convolution", net.weights(W, W_SCALE), **CONV).build()
    expected = (Net().input("u8", SHAPE).op("Convolution", W, **CONV).op("Convert", destination_type="f32")
                .op("Multiply", (0.05 * W_SCALE).reshape(1, 3, 1, 1)).build())
    after = rewrite(lower_convolution, before)
    assert_same_graph(after, expected)
    _same_numbers(before, after, np.uint8)


def test_activation_zero_point_is_a_precomputed_term_and_pads_with_itself():
    net = Net().input("i8", SHAPE).dequantize(sub=3, mul=0.05)
    before = net.op("Convolution", net.weights(W, W_SCALE), **CONV).build()
    comp = (3 * W.astype(np.int64).reshape(3, -1).sum(axis=1)).astype(np.int32).reshape(1, 3, 1, 1)
    padded = dict(CONV, pads_begin=[0, 0], pads_end=[0, 0])
    expected = (Net().input("i8", SHAPE)
                .op("Pad", np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]), np.int8(3), pad_mode="constant")
                .op("Convolution", W, **padded).op("Convert", destination_type="f32")
                .op("Subtract", comp).op("Multiply", (0.05 * W_SCALE).reshape(1, 3, 1, 1)).build())
    after = rewrite(lower_convolution, before)
    assert_same_graph(after, expected)
    _same_numbers(before, after, np.int8)


def test_depthwise_convolution_takes_a_per_channel_activation_scale():
    w = RNG.integers(-127, 128, (4, 1, 1, 3, 3)).astype(np.int8)
    w_scale = np.array([0.1, 0.2, 0.3, 0.4], np.float32).reshape(4, 1, 1, 1, 1)
    a_scale = np.array([1, 2, 3, 4], np.float32)
    net = Net().input("u8", SHAPE).dequantize(mul=list(a_scale))
    before = net.op("GroupConvolution", net.weights(w, w_scale), **CONV).build()
    expected = (Net().input("u8", SHAPE).op("GroupConvolution", w, **CONV).op("Convert", destination_type="f32")
                .op("Multiply", (a_scale * w_scale.reshape(-1)).reshape(1, 4, 1, 1)).build())
    after = rewrite(lower_convolution, before)
    assert_same_graph(after, expected)
    _same_numbers(before, after, np.uint8)


def test_weight_zero_point_folds_into_the_weights():
    w_u8 = (W.astype(np.int16) + 128).astype(np.uint8)
    net = Net().input("u8", SHAPE).dequantize(mul=0.05)
    weights = net.weights(w_u8, W_SCALE, zero_point=np.float32(128), dtype=np.uint8)
    before = net.op("Convolution", weights, **CONV).build()
    expected = (Net().input("u8", SHAPE).op("Convolution", W, **CONV).op("Convert", destination_type="f32")
                .op("Multiply", (0.05 * W_SCALE).reshape(1, 3, 1, 1)).build())
    assert_same_graph(rewrite(lower_convolution, before), expected)


@pytest.mark.parametrize("dtype, make, reason", [
    ("u8", lambda net: net.dequantize(mul=[1, 2, 3, 4]), "per channel"),  # a dense conv mixes input channels
    ("f32", lambda net: net.op("Relu"), "not quantized"),
])
def test_convolution_that_cannot_factor_its_dequantization_stays(dtype, make, reason):
    net = make(Net().input(dtype, SHAPE))
    before = net.op("Convolution", net.weights(W, W_SCALE), **CONV).build()
    g = lpt_rewrite(lower_convolution, before)
    assert_same_graph(g.graph, before)
    assert any(reason in r for r in g.refusals.values()), g.refusals


def test_transposed_convolution_needs_zero_point_zero():
    w = RNG.integers(-127, 128, (4, 2, 2, 2)).astype(np.int8)
    w_scale = np.array([0.1, 0.2], np.float32).reshape(1, 2, 1, 1)
    attrs = dict(strides=[2, 2], dilations=[1, 1], pads_begin=[0, 0], pads_end=[0, 0], auto_pad="explicit")
    net = Net().input("u8", SHAPE).dequantize(mul=0.5)
    before = net.op("ConvolutionBackpropData", net.weights(w, w_scale), **attrs).build()
    expected = (Net().input("u8", SHAPE).op("ConvolutionBackpropData", w, **attrs)
                .op("Convert", destination_type="f32").op("Multiply", (0.5 * w_scale).reshape(1, 2, 1, 1)).build())
    after = rewrite(lower_convolution, before)
    assert_same_graph(after, expected)
    _same_numbers(before, after, np.uint8)
    net = Net().input("u8", SHAPE).dequantize(sub=1, mul=0.5)
    g = lpt_rewrite(lower_convolution, net.op("ConvolutionBackpropData", net.weights(w, w_scale), **attrs).build())
    assert any("zero point of 0" in r for r in g.refusals.values())


def test_matmul_with_weights_gets_a_per_column_term_for_the_zero_point():
    w = RNG.integers(-127, 128, (6, 8)).astype(np.int8)
    w_scale = np.linspace(0.01, 0.06, 6, dtype=np.float32).reshape(6, 1)
    net = Net().input("u8", [1, 5, 8]).dequantize(sub=10, mul=0.1)
    before = net.op("MatMul", net.weights(w, w_scale), transpose_b=True).build()
    comp = (10 * w.astype(np.int64).sum(axis=1)).astype(np.int32).reshape(1, 1, 6)
    expected = (Net().input("u8", [1, 5, 8]).op("MatMul", w, transpose_b=True).op("Convert", destination_type="f32")
                .op("Subtract", comp).op("Multiply", (0.1 * w_scale).reshape(1, 1, 6)).build())
    assert_same_graph(rewrite(lower_matmul, before), expected)


def test_matmul_of_two_activations():
    net = Net().input("i8", [1, 2, 5, 8])
    net.graph.add_input("y", (1, 2, 8, 3), np.int8)
    a = net.dequantize(mul=0.1).out
    net.out = "y"
    b = net.dequantize(mul=0.2).out
    before = net.op("MatMul", b, first=a).build()
    exp = Net().input("i8", [1, 2, 5, 8])
    exp.graph.add_input("y", (1, 2, 8, 3), np.int8)
    expected = exp.op("MatMul", "y").op("Convert", destination_type="f32").op("Multiply", np.float32(0.1 * 0.2))
    assert_same_graph(rewrite(lower_matmul, before), expected.build())
    net = Net().input("i8", [1, 2, 5, 8])
    net.graph.add_input("y", (1, 2, 8, 3), np.int8)
    a = net.dequantize(sub=1, mul=0.1).out
    net.out = "y"
    b = net.dequantize(mul=0.2).out
    g = lpt_rewrite(lower_matmul, net.op("MatMul", b, first=a).build())
    assert any("zero points of 0" in r for r in g.refusals.values())


def test_per_channel_input_of_a_dense_convolution_is_requantized_to_one_scale():
    net = Net().input("u8", SHAPE).dequantize(mul=[0.1, 0.2, 0.3, 0.4])
    weights = net.weights(W, W_SCALE)
    before = net.op("Convolution", weights, **CONV).build()
    exp = Net().input("u8", SHAPE).dequantize(mul=[0.1, 0.2, 0.3, 0.4])
    weights = exp.weights(W, W_SCALE)
    # every channel's range [0, 255 * s[c]] fits [0, 102] = 255 steps of 0.4
    expected = exp.quantize(0.0, 102.0, 0, 255, "u8").dequantize(mul=0.4).op("Convolution", weights, **CONV).build()
    after = rewrite(requantize_per_channel, before)
    assert_same_graph(after, expected)
    feeds = {"x": RNG.integers(0, 256, SHAPE).astype(np.uint8)}
    got, want = run_float(after, feeds)[after.outputs[0]], run_float(before, feeds)[before.outputs[0]]
    assert np.abs(got - want).max() <= 0.2 * np.abs(W_SCALE.reshape(1, 3, 1, 1) * np.abs(W).sum(axis=(1, 2, 3))
                                                    .reshape(1, 3, 1, 1)).max()  # half a step per input, at most
