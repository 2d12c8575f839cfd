"""A written-out layer norm becomes one MVN with the same values; look-alikes stay."""

import numpy as np
import pytest

from gpu_int8.graph import Graph, infer_shapes
from gpu_int8.quantization.layer_norm import fuse_layer_norms
from gpu_int8.reference.float_executor import FloatExecutor


def _layer_norm(second_axes=(-1,), exponent=2.0) -> Graph:
    g = Graph("ln")
    g.add_input("x", (1, 6, 10), np.float32)
    axes = g.add_const("axes", np.array([-1], np.int64)).name
    axes2 = g.add_const("axes2", np.array(second_axes, np.int64)).name
    two = g.add_const("two", np.array(exponent, np.float32)).name
    eps = g.add_const("eps", np.array(1e-5, np.float32)).name
    mean = g.add_node("ReduceMean", ["x", axes], ["mean"], {"keep_dims": True}, name="mean").outputs[0]
    d = g.add_node("Subtract", ["x", mean], ["d"], name="d").outputs[0]
    sq = g.add_node("Power", [d, two], ["sq"], name="sq").outputs[0]
    var = g.add_node("ReduceMean", [sq, axes2], ["var"], {"keep_dims": True}, name="var").outputs[0]
    shifted = g.add_node("Add", [var, eps], ["shifted"], name="shifted").outputs[0]
    root = g.add_node("Sqrt", [shifted], ["root"], name="root").outputs[0]
    g.add_node("Divide", [d, root], ["y"], name="y")
    g.outputs = ["y"]
    return infer_shapes(g)


def test_layer_norm_becomes_mvn_with_the_same_values():
    g = _layer_norm()
    x = np.random.default_rng(0).standard_normal((1, 6, 10)).astype(np.float32) * 3 + 1
    before = FloatExecutor(g).run({"x": x})["y"]
    assert fuse_layer_norms(g) == 1
    assert [n.op_type for n in g.nodes] == ["MVN"] and g.nodes[0].outputs == ["y"]
    assert g.nodes[0].attrs["eps"] == pytest.approx(1e-5)
    np.testing.assert_allclose(FloatExecutor(infer_shapes(g)).run({"x": x})["y"], before, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("second_axes, exponent", [((1,), 2.0), ((-1,), 3.0)])
def test_look_alikes_stay(second_axes, exponent):
    g = _layer_norm(second_axes, exponent)
    assert fuse_layer_norms(g) == 0 and "MVN" not in [n.op_type for n in g.nodes]
