"""A model quantized at one input size runs at another: its shape computations are written back."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from gpu_int8.api import load_graph
from gpu_int8.errors import ModelError
from gpu_int8.lpt import transform
from gpu_int8.quantization import quantize, quantize_graph
from gpu_int8.reference.float_executor import FloatExecutor
from gpu_int8.reference.int8_executor import Int8Executor

CALIBRATION_SHAPE = (1, 4, 6, 8)
OTHER_SHAPE = (1, 4, 6, 13)


@pytest.fixture(scope="module")
def float_model(tmp_path_factory) -> str:
    """conv -> relu -> reshape to (N, C, H*W), its target computed from Shape (as exporters write
    a flatten whose size follows the input) -> transpose -> matmul: the width is free."""
    rng = np.random.default_rng(3)
    weights = [numpy_helper.from_array((rng.standard_normal((8, 4, 3, 3)) / 6).astype(np.float32), "w"),
               numpy_helper.from_array((rng.standard_normal(8) * 0.1).astype(np.float32), "b"),
               numpy_helper.from_array((rng.standard_normal((8, 5)) / 3).astype(np.float32), "m"),
               numpy_helper.from_array(np.array([0], np.int64), "start"),
               numpy_helper.from_array(np.array([2], np.int64), "stop"),
               numpy_helper.from_array(np.array([4], np.int64), "end")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Shape", ["r"], ["s"], name="shape"),
             helper.make_node("Slice", ["s", "start", "stop"], ["nc"], name="slice_nc"),
             helper.make_node("Slice", ["s", "stop", "end"], ["hw"], name="slice_hw"),
             helper.make_node("ReduceProd", ["hw"], ["pixels"], keepdims=1, name="pixels"),
             helper.make_node("Concat", ["nc", "pixels"], ["target"], axis=0, name="target"),
             helper.make_node("Reshape", ["r", "target"], ["flat"], name="flatten"),
             helper.make_node("Transpose", ["flat"], ["t"], perm=[0, 2, 1], name="transpose"),
             helper.make_node("MatMul", ["t", "m"], ["y"], name="matmul")]
    graph = helper.make_graph(
        nodes, "free_width", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path_factory.mktemp("free") / "free_width.onnx"
    onnx.save(model, str(path))
    return str(path)


def _feeds(n: int, shape=CALIBRATION_SHAPE, seed: int = 0) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [{"x": rng.standard_normal(shape).astype(np.float32)} for _ in range(n)]


def _cosine(a, b) -> float:
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_the_quantized_model_runs_at_another_width(float_model, tmp_path):
    out = tmp_path / "q.xml"
    report = quantize(float_model, _feeds(8), out, shapes={"x": CALIBRATION_SHAPE})
    assert report.shape_subgraphs == 1 and "shape computations kept" in str(report)
    assert 'type="ShapeOf"' in out.read_text()
    graph = load_graph(out, {"x": OTHER_SHAPE})
    assert [n.op_type for n in graph.nodes].count("ShapeOf") == 0  # folded again, at the new size
    int8 = Int8Executor(transform(graph))
    reference = FloatExecutor(load_graph(float_model, {"x": OTHER_SHAPE}))
    for feed in _feeds(3, OTHER_SHAPE, seed=1):
        got, want = int8.run(feed)["y"], reference.run(feed)["y"]
        assert got.shape == want.shape == (1, 6 * 13, 5)
        assert _cosine(got, want) > 0.99


def test_openvino_reshapes_it_too(float_model, tmp_path):
    import openvino as ov

    out = tmp_path / "q.xml"
    quantize(float_model, _feeds(8), out, shapes={"x": CALIBRATION_SHAPE})
    core = ov.Core()
    model = core.read_model(str(out))
    model.reshape({"x": list(OTHER_SHAPE)})
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    ours = Int8Executor(transform(load_graph(out, {"x": OTHER_SHAPE})))
    for feed in _feeds(3, OTHER_SHAPE, seed=2):
        theirs = compiled({0: feed["x"]})[compiled.outputs[0]]
        assert _cosine(ours.run(feed)["y"], theirs) > 0.99


def test_without_the_source_the_size_is_frozen_and_the_error_names_the_reshape(float_model, tmp_path):
    out = tmp_path / "frozen.xml"
    report = quantize_graph(load_graph(float_model, {"x": CALIBRATION_SHAPE}), _feeds(4), out)
    assert report.shape_subgraphs == 0
    with pytest.raises(ModelError, match="node 'flatten': Reshape cannot take inputs"):
        load_graph(out, {"x": OTHER_SHAPE})
