"""Graph IR basics: ordering, cycles, dead code, shape overrides and folding."""

import numpy as np
import pytest

from gpu_int8.errors import ModelError, UnsupportedOpError
from gpu_int8.graph import Graph, infer_shapes, set_input_shapes
from gpu_int8.reference.float_executor import FloatExecutor


def small_graph() -> Graph:
    g = Graph("t")
    g.add_input("x", (None, 4), np.float32)
    g.add_const("b", np.arange(4, dtype=np.float32))
    g.add_const("c1", np.ones(4, np.float32))
    g.add_const("c2", np.full(4, 2, np.float32))
    # nodes deliberately out of order
    g.add_node("Relu", ["s"], ["y"])
    g.add_node("Add", ["x", "bc"], ["s"])
    g.add_node("Add", ["c1", "c2"], ["c3"])  # constant: folded
    g.add_node("Add", ["b", "c3"], ["bc"])  # constant after folding
    g.add_node("Relu", ["x"], ["dead"])
    g.outputs = ["y"]
    return g


def test_toposort_fold_and_run():
    g = small_graph()
    set_input_shapes(g, {"x": (2, 4)})
    infer_shapes(g)
    assert [n.op_type for n in g.nodes] == ["Add", "Relu"]
    assert g.values["bc"].is_const and g.values["bc"].data.tolist() == [3, 4, 5, 6]
    assert "dead" not in g.values
    x = np.array([[-10, 0, 1, 2], [0, 0, 0, 0]], np.float32)
    out = FloatExecutor(g).run({"x": x})["y"]
    np.testing.assert_array_equal(out, np.maximum(x + [3, 4, 5, 6], 0))
    assert g.values["y"].shape == (2, 4)


def test_dynamic_shape_needs_override():
    g = small_graph()
    with pytest.raises(ModelError, match="dynamic shape.*--shape x="):
        set_input_shapes(g, None)


def test_override_must_fit_declared_rank():
    g = small_graph()
    with pytest.raises(ModelError, match="does not fit"):
        set_input_shapes(g, {"x": (2, 4, 1)})
    with pytest.raises(ModelError, match="does not fit"):
        set_input_shapes(g, {"x": (-1, 4)})
    with pytest.raises(ModelError, match="model's inputs"):
        set_input_shapes(g, {"nope": (1,)})


def test_override_may_change_a_static_dimension_the_model_then_rejects_by_node():
    g = small_graph()
    set_input_shapes(g, {"x": (2, 5)})  # a reshape, as OpenVINO allows; the constant [3, 4, 5, 6] cannot follow
    with pytest.raises(ModelError, match=r"Add cannot take inputs x\[2,5\]"):
        infer_shapes(g)


def test_cycle_is_reported():
    g = Graph("cyc")
    g.add_input("x", (1,), np.float32)
    g.add_node("Add", ["x", "b"], ["a"])
    g.add_node("Relu", ["a"], ["b"])
    g.outputs = ["b"]
    with pytest.raises(ModelError, match="cycle"):
        g.toposort()


def test_unknown_op_and_undefined_input_are_named():
    g = Graph("u", source="m.xml")
    g.add_input("x", (1,), np.float32)
    g.add_node("Frobnicate", ["x"], ["y"], name="frob1")
    g.outputs = ["y"]
    with pytest.raises(UnsupportedOpError, match="m.xml: node 'frob1': unsupported op type 'Frobnicate'"):
        infer_shapes(g)
    g2 = Graph("u2", source="m.xml")
    g2.add_input("x", (1,), np.float32)
    g2.add_node("Relu", ["ghost"], ["y"], name="r")
    g2.outputs = ["y"]
    with pytest.raises(ModelError, match="input 'ghost' is not defined"):
        infer_shapes(g2)


def test_shape_mismatch_names_node():
    g = Graph("m", source="m.onnx")
    g.add_input("x", (2, 3), np.float32)
    g.add_const("b", np.ones((4,), np.float32))
    g.add_node("Add", ["x", "b"], ["y"], name="add_bad")
    g.outputs = ["y"]
    with pytest.raises(ModelError, match="node 'add_bad': Add cannot take inputs x\\[2,3\\], b\\[4\\]"):
        infer_shapes(g)


def test_a_copy_is_independent_of_its_graph():
    g = small_graph()
    c = g.copy()
    set_input_shapes(c, {"x": (2, 4)})
    infer_shapes(c)
    assert [n.op_type for n in c.nodes] == ["Add", "Relu"]  # folded and pruned: the copy only
    assert len(g.nodes) == 5 and g.values["x"].shape == (None, 4) and not g.values["bc"].is_const
    c.nodes[0].inputs[0] = "other"
    assert g.nodes[1].inputs[0] == "x"
