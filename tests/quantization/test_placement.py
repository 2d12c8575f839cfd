"""Where FakeQuantize goes: activations in front of int8 work, one per value, none twice."""

import numpy as np

from gpu_int8.graph import Graph, infer_shapes
from gpu_int8.quantization.activations import fuse_activations
from gpu_int8.quantization.placement import place
from tests.quantization.graphs import conv, small_cnn


def _readers(p):
    return {value: sorted((node.name, i) for node, i in users) for value, users in p.activations.items()}


def test_small_cnn_points():
    g = small_cnn()
    fuse_activations(g)
    p = place(g)
    assert _readers(p) == {
        "x": [("c1/conv", 0)],
        "r1": [("c2/conv", 0), ("sum", 1)],  # shared by the convolution and the residual sum
        "hs": [("sum", 0)],  # the residual branch, after its (fused) HSwish
        "sum": [("pool", 0)],
        "r2": [("cat", 1)],
        "r3": [("gap", 0)],
        "gap": [("flat_out", 0)],  # in front of the Reshape, not behind it
    }
    # MaxPool keeps the grid of 'sum': the depthwise conv and the Concat read it as it is,
    # and the Concat's two sources share one range
    assert p.shared_ranges == [{"sum", "r2"}]
    assert [(w.node.name, w.axes) for w in p.weights] == [
        ("c1/conv", (0,)), ("c2/conv", (0,)), ("dw/conv", (0, 1)), ("c3/conv", (0,)), ("logits", (1,))]
    assert p.left_float == {}


def test_bias_add_and_constant_products_are_not_eltwise_points():
    rng = np.random.default_rng(0)
    g = Graph("bias")
    g.add_input("x", (1, 2, 6, 6), np.float32)
    y = conv(g, "x", 2, 3, rng, "c")
    k = g.add_const("k", np.full((1, 3, 1, 1), 2.0, np.float32)).name
    g.add_node("Multiply", [y, k], ["out"], name="out")
    g.outputs = ["out"]
    p = place(infer_shapes(g))
    assert _readers(p) == {"x": [("c/conv", 0)]}


def test_layer_norm_mean_stays_float_but_a_global_pool_is_quantized():
    g = Graph("means")
    g.add_input("x", (1, 4, 6, 6), np.float32)
    spatial = g.add_const("hw", np.array([2, 3], np.int64)).name
    channels = g.add_const("c", np.array([1], np.int64)).name
    g.add_node("ReduceMean", ["x", spatial], ["pool"], {"keep_dims": True}, name="pool")
    g.add_node("ReduceMean", ["x", channels], ["mean"], {"keep_dims": True}, name="mean")
    g.outputs = ["pool", "mean"]
    p = place(infer_shapes(g))
    assert _readers(p) == {"x": [("pool", 0)]}


def test_matmul_weights_per_output_column_and_transposed():
    g = Graph("mm")
    g.add_input("x", (2, 8), np.float32)
    g.add_const("w", np.ones((8, 3), np.float32))
    g.add_const("wt", np.ones((5, 8), np.float32))
    g.add_node("MatMul", ["x", "w"], ["a"], name="a")
    g.add_node("MatMul", ["x", "wt"], ["b"], {"transpose_b": True}, name="b")
    g.outputs = ["a", "b"]
    p = place(infer_shapes(g))
    assert [(w.node.name, w.axes) for w in p.weights] == [("a", (1,)), ("b", (0,))]
    assert _readers(p) == {"x": [("a", 0), ("b", 0)]}


def test_convolution_with_computed_weights_stays_float():
    g = Graph("dyn")
    g.add_input("x", (1, 2, 5, 5), np.float32)
    g.add_input("w", (3, 2, 1, 1), np.float32)
    g.add_node("Convolution", ["x", "w"], ["y"], {"strides": [1, 1], "pads_begin": [0, 0], "pads_end": [0, 0],
                                                "dilations": [1, 1]}, name="y")
    g.outputs = ["y"]
    p = place(infer_shapes(g))
    assert p.activations == {} and p.weights == []
    assert "not a float constant" in p.left_float["y"]


def test_an_activation_only_depthwise_convolutions_read_gets_a_range_per_channel():
    rng = np.random.default_rng(1)
    g = Graph("dw")
    g.add_input("x", (1, 3, 8, 8), np.float32)
    r = g.add_node("Relu", [conv(g, "x", 3, 6, rng, "c")], ["r"], name="r").outputs[0]
    d = conv(g, r, 6, 6, rng, "dw", group=True)
    g.add_node("Relu", [d], ["out"], name="out")
    g.outputs = ["out"]
    p = place(infer_shapes(g))
    assert _readers(p) == {"x": [("c/conv", 0)], "r": [("dw/conv", 0)]}
    assert p.per_channel == {"r"}  # 'x' feeds a regular convolution: one range


def test_ignored_nodes_get_no_quantization_points():
    g = small_cnn()
    fuse_activations(g)
    p = place(g, ignored={"c2/conv", "pool"})
    readers = _readers(p)
    assert readers["r1"] == [("sum", 1)]  # still quantized for the residual sum, not for c2/conv
    assert "sum" not in readers  # only the ignored MaxPool read it quantized
    # the MaxPool no longer keeps a grid: its float output gets a FakeQuantize of its own
    assert readers["pool"] == [("cat", 0), ("dw/conv", 0)]
    assert "c2/conv" not in [w.node.name for w in p.weights]
    assert p.left_float == {"c2/conv": "kept float on request"}
