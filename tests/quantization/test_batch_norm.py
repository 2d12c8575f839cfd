"""A BatchNorm no convolution absorbed becomes Multiply + Add with the same values."""

import numpy as np

from gpu_int8.graph import Graph, infer_shapes
from gpu_int8.quantization.batch_norm import decompose_batch_norms
from gpu_int8.reference.float_executor import FloatExecutor


def test_batch_norm_becomes_a_foldable_affine():
    rng = np.random.default_rng(5)
    g = Graph("bn")
    g.add_input("x", (1, 3, 4, 4), np.float32)
    params = [g.add_const(n, rng.uniform(0.5, 2, 3).astype(np.float32)).name for n in ("g", "b", "m", "v")]
    g.add_node("BatchNormInference", ["x", *params], ["y"], {"epsilon": 1e-5}, name="y")
    g.outputs = ["y"]
    infer_shapes(g)
    x = rng.standard_normal((1, 3, 4, 4)).astype(np.float32)
    before = FloatExecutor(g).run({"x": x})["y"]
    assert decompose_batch_norms(g) == 1
    assert [n.op_type for n in g.nodes] == ["Multiply", "Add"] and g.nodes[-1].outputs == ["y"]
    np.testing.assert_allclose(FloatExecutor(infer_shapes(g)).run({"x": x})["y"], before, rtol=1e-5, atol=1e-6)


def test_batch_norm_with_computed_statistics_stays():
    g = Graph("bn")
    g.add_input("x", (1, 3, 4, 4), np.float32)
    g.add_input("mean", (3,), np.float32)
    params = [g.add_const(n, np.ones(3, np.float32)).name for n in ("g", "b", "v")]
    g.add_node("BatchNormInference", ["x", params[0], params[1], "mean", params[2]], ["y"], {"epsilon": 1e-5},
               name="y")
    g.outputs = ["y"]
    infer_shapes(g)
    assert decompose_batch_norms(g) == 0 and [n.op_type for n in g.nodes] == ["BatchNormInference"]
