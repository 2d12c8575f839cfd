"""Decomposed HSwish / Swish become one op, and nothing else does."""

import numpy as np
import pytest

from gpu_int8.graph import Graph, infer_shapes
from gpu_int8.quantization.activations import fuse_activations
from gpu_int8.reference.float_executor import FloatExecutor
from tests.quantization.graphs import hswish_onnx


def _graph(build) -> Graph:
    g = Graph("act")
    g.add_input("x", (1, 4, 5, 5), np.float32)
    g.outputs = [build(g)]
    return infer_shapes(g)


def _run(g: Graph, x: np.ndarray) -> np.ndarray:
    return FloatExecutor(g).run({"x": x})[g.outputs[0]]


@pytest.mark.parametrize("divide_last", [True, False])
def test_hswish_both_orders_fuse_into_one_node_with_the_same_values(divide_last):
    g = _graph(lambda g: hswish_onnx(g, "x", "hs", divide_last))
    x = np.random.default_rng(0).uniform(-5, 5, (1, 4, 5, 5)).astype(np.float32)
    before = _run(g, x)
    assert fuse_activations(g) == 1
    assert [n.op_type for n in g.nodes] == ["HSwish"] and g.nodes[0].inputs == ["x"]
    assert g.outputs == ["hs"]
    np.testing.assert_allclose(_run(g, x), before, rtol=1e-6, atol=1e-6)


def test_paddle_swish_with_a_unit_scale_fuses():
    def build(g):
        one = g.add_const("one", np.array(1, np.float32)).name
        scaled = g.add_node("Multiply", ["x", one], ["xs"], name="xs").outputs[0]
        gate = g.add_node("Sigmoid", [scaled], ["sig"], name="sig").outputs[0]
        return g.add_node("Multiply", ["x", gate], ["swish"], name="swish").outputs[0]

    g = _graph(build)
    assert fuse_activations(g) == 1
    assert [n.op_type for n in g.nodes] == ["Swish"]


@pytest.mark.parametrize("clip_max, shift", [(5.0, 3.0), (6.0, 2.0)])
def test_lookalikes_stay_as_written(clip_max, shift):
    def build(g):
        s = g.add_const("s", np.array(shift, np.float32)).name
        six = g.add_const("six", np.array(6, np.float32)).name
        a = g.add_node("Add", ["x", s], ["a"], name="a").outputs[0]
        c = g.add_node("Clamp", [a], ["c"], {"min": 0.0, "max": clip_max}, name="c").outputs[0]
        m = g.add_node("Multiply", ["x", c], ["m"], name="m").outputs[0]
        return g.add_node("Divide", [m, six], ["y"], name="y").outputs[0]

    g = _graph(build)
    assert fuse_activations(g) == 0
    assert [n.op_type for n in g.nodes] == ["Add", "Clamp", "Multiply", "Divide"]


def test_a_product_of_two_different_activations_is_not_an_activation():
    def build(g):
        gate = g.add_node("Sigmoid", ["x"], ["sig"], name="sig").outputs[0]
        other = g.add_node("Relu", ["x"], ["r"], name="r").outputs[0]
        return g.add_node("Multiply", [other, gate], ["y"], name="y").outputs[0]

    g = _graph(build)
    assert fuse_activations(g) == 0
