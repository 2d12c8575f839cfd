"""Dequantization moves past precision-preserving ops (and Concat): before/after graphs,
and the checks that keep an op in float."""

import numpy as np
import pytest

from gpu_int8.lpt.move_dequantization import move_dequantization, track_axis
from gpu_int8.lpt.move_through_concat import move_through_concat
from tests.lpt.dsl import Net, assert_same_graph, lpt_rewrite, rewrite, run_float

SHAPE = [1, 4, 6, 6]
POOL = dict(kernel=[2, 2], strides=[2, 2], pads_begin=[0, 0], pads_end=[0, 0])


def _feeds(dtype, shape=SHAPE, seed=0):
    info = np.iinfo(dtype)
    return {"x": np.random.default_rng(seed).integers(info.min, info.max + 1, shape).astype(dtype)}


def _check(before, expected, dtype="u8", shape=SHAPE):
    after = rewrite(move_dequantization, before)
    assert_same_graph(after, expected)
    feeds = _feeds(np.uint8 if dtype == "u8" else np.int8, shape)
    np.testing.assert_allclose(run_float(after, feeds)[after.outputs[0]],
                               run_float(before, feeds)[before.outputs[0]], rtol=1e-6, atol=1e-6)


def _unchanged(before, reason_part):
    g = lpt_rewrite(move_dequantization, before)
    assert_same_graph(g.graph, before)
    assert any(reason_part in r for r in g.refusals.values()), g.refusals


@pytest.mark.parametrize("sub, mul", [(None, 0.1), (128, 0.02), ([1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4])])
def test_maxpool_runs_on_the_integers(sub, mul):
    before = Net().input("u8", SHAPE).dequantize(sub=sub, mul=mul).op("MaxPool", **POOL).build()
    expected = Net().input("u8", SHAPE).op("MaxPool", **POOL).dequantize(sub=sub, mul=mul).build()
    _check(before, expected)


def test_maxpool_keeps_a_negative_scale_in_float():
    before = Net().input("u8", SHAPE).dequantize(mul=[0.1, -0.2, 0.3, 0.4]).op("MaxPool", **POOL).build()
    _unchanged(before, "negative")


@pytest.mark.parametrize("target, sub, mul, sub_after, mul_after", [
    ([1, 4, 36], None, 0.1, None, 0.1),  # per tensor: any reshape
    ([1, 4, 36], [1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4]),  # channel axis kept
])
def test_reshape_keeps_or_follows_the_channel_axis(target, sub, mul, sub_after, mul_after):
    before = Net().input("u8", SHAPE).dequantize(sub=sub, mul=mul).op("Reshape", np.array(target), special_zero=False)
    expected = Net().input("u8", SHAPE).op("Reshape", np.array(target), special_zero=False)
    _check(before.build(), expected.dequantize(sub=sub_after, mul=mul_after).build())


def test_reshape_that_merges_a_per_channel_axis_stays():
    before = (Net().input("u8", SHAPE).dequantize(mul=[0.1, 0.2, 0.3, 0.4])
              .op("Reshape", np.array([1, 144]), special_zero=False).build())
    _unchanged(before, "per-channel axis")


def test_transpose_moves_the_per_channel_axis():
    before = Net().input("i8", SHAPE).dequantize(mul=[0.1, 0.2, 0.3, 0.4]).op("Transpose", np.array([0, 2, 3, 1]))
    net = Net().input("i8", SHAPE).op("Transpose", np.array([0, 2, 3, 1])).op("Convert", destination_type="f32")
    expected = net.op("Multiply", np.array([0.1, 0.2, 0.3, 0.4], np.float32).reshape(1, 1, 1, 4))
    _check(before.build(), expected.build(), "i8")


def test_interpolate_nearest_moves_linear_stays():
    def interp(net, mode):
        return net.op("Interpolate", np.array([12, 12], np.int64), np.array([2, 3], np.int64), mode=mode,
                      shape_calculation_mode="sizes", opset=11)
    before = interp(Net().input("u8", SHAPE).dequantize(sub=3, mul=0.5), "nearest").build()
    expected = interp(Net().input("u8", SHAPE), "nearest").dequantize(sub=3, mul=0.5).build()
    _check(before, expected)
    _unchanged(interp(Net().input("u8", SHAPE).dequantize(sub=3, mul=0.5), "linear").build(), "nearest")


def test_pad_value_becomes_its_integer():
    pads = (np.array([0, 0, 1, 1]), np.array([0, 0, 2, 0]))
    before = Net().input("u8", SHAPE).dequantize(sub=10, mul=0.5).op("Pad", *pads, np.float32(1.0)).build()
    # real 1.0 is q = 1.0 / 0.5 + 10 = 12
    expected = Net().input("u8", SHAPE).op("Pad", *pads, np.uint8(12)).dequantize(sub=10, mul=0.5).build()
    _check(before, expected)
    odd = Net().input("u8", SHAPE).dequantize(sub=10, mul=0.5).op("Pad", *pads, np.float32(0.25)).build()
    _unchanged(odd, "no integer form")


def test_depth_to_space_mixes_channels_so_per_channel_stays():
    before = Net().input("u8", SHAPE).dequantize(mul=0.1).op("DepthToSpace", mode="blocks_first", block_size=2)
    expected = Net().input("u8", SHAPE).op("DepthToSpace", mode="blocks_first", block_size=2).dequantize(mul=0.1)
    _check(before.build(), expected.build())
    _unchanged(Net().input("u8", SHAPE).dequantize(mul=[0.1, 0.2, 0.3, 0.4])
               .op("DepthToSpace", mode="blocks_first", block_size=2).build(), "mixes the channels")


def test_split_gives_each_output_its_dequantization():
    before = Net().input("u8", SHAPE).dequantize(sub=7, mul=0.25).op("Split", np.int64(2), outputs=2, num_splits=2)
    node = before.last_node
    g = before.build(*node.outputs)
    exp = Net().input("u8", SHAPE).op("Split", np.int64(2), outputs=2, num_splits=2)
    parts = exp.last_node.outputs
    a = exp.dequantize(sub=7, mul=0.25).out
    exp.out = parts[1]
    b = exp.dequantize(sub=7, mul=0.25).out
    after = rewrite(move_dequantization, g)
    assert_same_graph(after, exp.build(a, b))


def test_concat_of_aligned_inputs_keeps_their_quantization():
    net = Net().input("u8", SHAPE)
    a = net.dequantize(sub=5, mul=0.1).out
    net.out = "x"
    b = net.op("MaxPool", kernel=[1, 1], strides=[1, 1]).dequantize(sub=5, mul=0.1).out
    before = net.op("Concat", b, first=a, axis=1).build()
    exp = Net().input("u8", SHAPE)
    b = exp.op("MaxPool", kernel=[1, 1], strides=[1, 1]).out
    expected = exp.op("Concat", b, first="x", axis=1).dequantize(sub=5, mul=0.1).build()
    after = rewrite(move_through_concat, before)
    assert_same_graph(after, expected)


def test_concat_of_different_scales_gets_per_channel_dequantization():
    net = Net().input("u8", SHAPE)
    a = net.dequantize(mul=0.1).out
    net.out = "x"
    b = net.op("MaxPool", kernel=[1, 1], strides=[1, 1]).dequantize(sub=2, mul=0.3).out
    before = net.op("Concat", b, first=a, axis=1).build()
    after = rewrite(move_through_concat, before)
    exp = Net().input("u8", SHAPE)
    b = exp.op("MaxPool", kernel=[1, 1], strides=[1, 1]).out
    expected = exp.op("Concat", b, first="x", axis=1).dequantize(sub=[0] * 4 + [2] * 4, mul=[0.1] * 4 + [0.3] * 4)
    assert_same_graph(after, expected.build())
    feeds = _feeds(np.uint8)
    np.testing.assert_allclose(run_float(after, feeds)[after.outputs[0]], run_float(before, feeds)[before.outputs[0]],
                               rtol=1e-6)


def test_concat_of_u8_and_i8_stays():
    net = Net().input("u8", SHAPE)
    net.graph.add_input("y", tuple(SHAPE), np.int8)
    a = net.dequantize(mul=0.1).out
    net.out = "y"
    b = net.dequantize(mul=0.1).out
    before = net.op("Concat", b, first=a, axis=1).build()
    g = lpt_rewrite(move_through_concat, before)
    assert_same_graph(g.graph, before)
    assert "u8 and i8" in next(iter(g.refusals.values()))


def test_track_axis_through_reshapes():
    assert track_axis((1, 4, 6, 6), (1, 4, 36), 1) == 1
    assert track_axis((1, 4, 6, 6), (4, 36), 1) == 0
    assert track_axis((1, 4, 6, 6), (1, 1, 4, 36), 1) == 2
    assert track_axis((1, 4, 6, 6), (1, 2, 2, 36), 1) is None


def test_reduce_max_keeps_a_per_channel_axis_it_does_not_reduce():
    before = (Net().input("u8", SHAPE).dequantize(sub=[1, 2, 3, 4], mul=[0.1, 0.2, 0.3, 0.4])
              .op("ReduceMax", np.array([2, 3]), keep_dims=False).build())
    net = Net().input("u8", SHAPE).op("ReduceMax", np.array([2, 3]), keep_dims=False)
    net.op("Convert", destination_type="f32").op("Subtract", np.array([[1, 2, 3, 4]], np.float32))
    expected = net.op("Multiply", np.array([[0.1, 0.2, 0.3, 0.4]], np.float32)).build()
    _check(before, expected)
    _unchanged(Net().input("u8", SHAPE).dequantize(mul=[0.1, 0.2, 0.3, 0.4])
               .op("ReduceMax", np.array([1]), keep_dims=True).build(), "reduces the per-channel axis")
