"""quantize() end to end on a small float model: the IR it writes loads in gpu_int8 and in
OpenVINO, runs in int8 in both, stays close to the float model; bad calls fail clearly."""

import numpy as np
import pytest

from gpu_int8.api import load_graph
from gpu_int8.errors import GpuInt8Error, ModelError
from gpu_int8.frontends.ir_writer import write_ir
from gpu_int8.lpt import transform
from gpu_int8.quantization import quantize
from gpu_int8.reference.float_executor import FloatExecutor
from gpu_int8.reference.int8_executor import Int8Executor
from tests.quantization.graphs import feeds, small_cnn


@pytest.fixture(scope="module")
def float_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("float") / "small.xml"
    write_ir(small_cnn(), path)
    return path


@pytest.fixture(scope="module")
def quantized(float_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("int8") / "small_int8.xml"
    report = quantize(float_model, feeds(16), out)
    return out, report


def _cosine(a, b):
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_every_convolution_and_matmul_runs_in_int8(quantized):
    out, report = quantized
    assert (report.samples, report.activations, report.weights) == (16, 7, 5)
    assert report.folded == {"written-out HSwish/Swish -> one op": 1, "BatchNorm -> Multiply + Add": 0,
                             "written-out layer norm -> MVN": 0}
    assert report.left_float == {} and report.unseen == []
    assert out.with_suffix(".bin").is_file()
    graph = load_graph(out)
    assert sum(n.op_type == "FakeQuantize" for n in graph.nodes) == 7
    summary = transform(graph).summary()
    assert [op for op, _, _ in summary.float_layers] == ["Softmax"], summary.line()


def test_int8_stays_close_to_the_float_model(float_model, quantized):
    graph = load_graph(quantized[0])
    int8 = Int8Executor(transform(graph))
    reference = FloatExecutor(load_graph(float_model))
    for x in feeds(4, seed=7):  # inputs the calibration did not see
        got, want = int8.run(x)["probs"], reference.run(x)["probs"]
        assert _cosine(got, want) > 0.99


def test_openvino_runs_the_written_model_in_int8_and_agrees(quantized):
    ov = pytest.importorskip("openvino")
    out = quantized[0]
    compiled = ov.Core().compile_model(str(out), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    runtime = [op.get_rt_info() for op in compiled.get_runtime_model().get_ordered_ops()]
    precisions = {info["runtimePrecision"].astype(str) for info in runtime
                  if info["layerType"].astype(str) in ("Convolution", "FullyConnected")}
    assert precisions <= {"u8", "i8"}, precisions
    graph = load_graph(out)
    int8 = Int8Executor(transform(graph))
    for x in feeds(4, seed=8):
        theirs = compiled({0: x["x"]})[compiled.outputs[0]]
        assert _cosine(int8.run(x)["probs"], theirs) > 0.999


def test_existing_output_is_kept(float_model, tmp_path):
    out = tmp_path / "taken.xml"
    out.write_text("mine")
    with pytest.raises(GpuInt8Error, match="taken.xml exists"):
        quantize(float_model, feeds(1), out)
    assert out.read_text() == "mine" and not out.with_suffix(".bin").exists()
    quantize(float_model, feeds(1), out, overwrite=True)
    assert out.read_text().startswith("<?xml")


@pytest.mark.parametrize("kwargs, message", [
    ({"calibration": []}, "no calibration inputs"),
    ({"calibration": [{"y": np.zeros((1, 3, 16, 16), np.float32)}]}, "no data for model input 'x'"),
    ({"calibration": [{"x": np.zeros((1, 3, 8, 8), np.float32)}]}, "has shape [1, 3, 8, 8], the model needs"),
    ({"output": "model.onnx"}, "must be an OpenVINO IR .xml path"),
    ({"ranges": "percentile"}, "range method 'percentile'"),
])
def test_clear_errors(float_model, tmp_path, kwargs, message):
    args = {"calibration": feeds(1), "output": tmp_path / "q.xml", **kwargs}
    with pytest.raises(GpuInt8Error, match=message.replace("[", r"\[").replace("]", r"\]")):
        quantize(float_model, **args)
    assert not (tmp_path / "q.xml").exists()


def test_refuses_its_own_input_and_quantized_models(float_model, quantized, tmp_path):
    with pytest.raises(GpuInt8Error, match="would replace the model"):
        quantize(float_model, feeds(1), float_model, overwrite=True)
    with pytest.raises(ModelError, match="already quantized"):
        quantize(quantized[0], feeds(1), tmp_path / "again.xml")


def test_a_per_channel_range_in_front_of_a_depthwise_convolution(tmp_path):
    from gpu_int8.graph import Graph, infer_shapes
    from tests.quantization.graphs import conv

    rng = np.random.default_rng(3)
    g = Graph("dw")
    g.add_input("x", (1, 3, 10, 10), np.float32)
    h = g.add_node("HSwish", [conv(g, "x", 3, 6, rng, "c")], ["h"], name="h").outputs[0]
    g.add_node("Relu", [conv(g, h, 6, 6, rng, "dw", group=True)], ["out"], name="out")
    g.outputs = ["out"]
    write_ir(infer_shapes(g), tmp_path / "dw.xml")
    calibration = [{"x": rng.standard_normal((1, 3, 10, 10)).astype(np.float32) * 2} for _ in range(8)]
    quantize(tmp_path / "dw.xml", calibration, tmp_path / "dw_int8.xml")
    graph = load_graph(tmp_path / "dw_int8.xml")
    fq = next(n for n in graph.nodes if n.op_type == "FakeQuantize" and n.inputs[0] == "h")
    assert graph.values[fq.inputs[1]].shape == (1, 6, 1, 1)
    schedule = transform(graph)
    assert schedule.summary().float_layers == []
    reference = FloatExecutor(load_graph(tmp_path / "dw.xml"))
    for x in calibration[:3]:
        assert _cosine(Int8Executor(schedule).run(x)["out"], reference.run(x)["out"]) > 0.99


def test_ignored_layers_stay_float_and_read_float_inputs(float_model, tmp_path):
    out = tmp_path / "ignored.xml"
    report = quantize(float_model, feeds(8), out, ignored=["c2/conv"])
    assert report.left_float == {"c2/conv": "kept float on request"} and report.weights == 4
    graph = load_graph(out)
    layer = next(n for n in graph.nodes if n.name == "c2/conv")
    assert layer.inputs[0] == "r1"  # the float activation, though the residual sum reads it quantized
    assert graph.values[layer.inputs[1]].is_const  # float weights, no int8 form
    float_layers = transform(graph).summary().float_layers
    assert [name for _, name, _ in float_layers] == ["c2/conv", "probs"], float_layers
    reference = FloatExecutor(load_graph(float_model))
    int8 = Int8Executor(transform(graph))
    for x in feeds(3, seed=7):
        assert _cosine(int8.run(x)["probs"], reference.run(x)["probs"]) > 0.99


def test_an_unknown_node_to_ignore_is_named(float_model, tmp_path):
    with pytest.raises(ModelError, match="no node named 'c9' to keep float"):
        quantize(float_model, feeds(1), tmp_path / "q.xml", ignored=["c9"])
    assert not (tmp_path / "q.xml").exists()
