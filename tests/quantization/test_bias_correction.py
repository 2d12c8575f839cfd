"""Bias correction: the quantized model's output mean per channel, over the calibration
inputs, is the float model's again.

The inputs are skewed (exponential), so the ``mse`` range clips their tail and moves
their mean; for 1x1 layers the correction is exact, since a layer's output mean then
depends only on its input's channel means."""

import numpy as np
import pytest

from gpu_int8.api import load_graph
from gpu_int8.graph import Graph, infer_shapes
from gpu_int8.quantization.quantizer import quantize_graph
from gpu_int8.reference.float_executor import FloatExecutor

SHAPES = {"conv": (1, 8, 12, 12), "depthwise": (1, 8, 12, 12), "conv3x3": (1, 8, 12, 12), "matmul": (1, 10, 16)}


def _layer(kind: str, bias: bool = True, second_reader: bool = False) -> Graph:
    rng = np.random.default_rng(3)
    g = Graph(kind)
    g.add_input("x", SHAPES[kind], np.float32)
    cin = SHAPES[kind][1] if kind != "matmul" else 16
    attrs = {"strides": [1, 1], "dilations": [1, 1], "pads_begin": [0, 0], "pads_end": [0, 0]}
    if kind == "matmul":
        w = g.add_const("w", rng.standard_normal((cin, 6)).astype(np.float32) / 4).name
        y = g.add_node("MatMul", ["x", w], ["y"], name="layer").outputs[0]
        b_shape = (6,)
    elif kind == "depthwise":
        w = g.add_const("w", rng.standard_normal((cin, 1, 1, 1, 1)).astype(np.float32)).name
        y = g.add_node("GroupConvolution", ["x", w], ["y"], attrs, name="layer").outputs[0]
        b_shape = (1, cin, 1, 1)
    else:
        k = 3 if kind == "conv3x3" else 1
        if k == 3:
            attrs.update(pads_begin=[1, 1], pads_end=[1, 1])
        w = g.add_const("w", rng.standard_normal((6, cin, k, k)).astype(np.float32) / 4).name
        y = g.add_node("Convolution", ["x", w], ["y"], attrs, name="layer").outputs[0]
        b_shape = (1, 6, 1, 1)
    if bias:
        b = g.add_const("b", rng.standard_normal(b_shape).astype(np.float32)).name
        y = g.add_node("Add", [y, b], ["out"], name="bias").outputs[0]
    g.outputs = [y]
    if second_reader:
        g.add_node("Relu", ["y"], ["also"], name="also")
        g.outputs.append("also")
    return infer_shapes(g)


def _feeds(kind: str, n: int = 6) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(5)
    return [{"x": rng.exponential(1.0, SHAPES[kind]).astype(np.float32)} for _ in range(n)]


def _output_means(graph: Graph, feeds, axis: int) -> np.ndarray:
    executor = FloatExecutor(graph)
    outputs = np.concatenate([executor.run(f)[graph.outputs[0]] for f in feeds])
    return outputs.mean(axis=tuple(a for a in range(outputs.ndim) if a != axis), dtype=np.float64)


def _quantized_means(kind: str, tmp_path, correct: bool) -> tuple[np.ndarray, np.ndarray, object]:
    feeds, axis = _feeds(kind), (2 if kind == "matmul" else 1)
    graph = _layer(kind)
    want = _output_means(graph, feeds, axis)
    out = tmp_path / f"{kind}_{correct}.xml"
    report = quantize_graph(graph, feeds, out, bias_correction=correct)
    return _output_means(load_graph(out), feeds, axis), want, report


@pytest.mark.parametrize("kind", ["conv", "depthwise", "matmul"])
def test_one_by_one_layers_get_the_float_output_mean_back(kind, tmp_path):
    before, want, report = _quantized_means(kind, tmp_path, correct=False)
    after, _, corrected = _quantized_means(kind, tmp_path, correct=True)
    assert (report.corrected_biases, corrected.corrected_biases) == (0, 1)
    shift = np.max(np.abs(before - want))
    assert shift > 1e-4, "the test inputs should move the output mean"
    np.testing.assert_allclose(after, want, atol=1e-5 + shift * 1e-3)


def test_a_padded_convolution_gets_most_of_the_shift_back(tmp_path):
    # with zero padding the border pixels see fewer taps, which means per channel do not
    # capture; the correction still removes most of the shift
    before, want, _ = _quantized_means("conv3x3", tmp_path, correct=False)
    after, _, _ = _quantized_means("conv3x3", tmp_path, correct=True)
    assert np.max(np.abs(after - want)) < 0.2 * np.max(np.abs(before - want))


@pytest.mark.parametrize("build", [lambda: _layer("conv", bias=False), lambda: _layer("conv", second_reader=True)],
                         ids=["no bias", "output read twice"])
def test_layers_without_a_bias_of_their_own_are_left_alone(build, tmp_path):
    report = quantize_graph(build(), _feeds("conv"), tmp_path / "m.xml")
    assert report.corrected_biases == 0 and report.weights == 1


def test_a_shared_bias_constant_is_left_alone(tmp_path):
    g = _layer("conv")
    g.add_node("Add", ["out", "b"], ["other"], name="other")  # the bias constant read a second time
    g.outputs.append("other")
    report = quantize_graph(infer_shapes(g), _feeds("conv"), tmp_path / "m.xml")
    assert report.corrected_biases == 0


def test_two_layers_reading_one_input_are_each_corrected(tmp_path):
    rng = np.random.default_rng(4)
    g = Graph("two")
    g.add_input("x", SHAPES["conv"], np.float32)
    attrs = {"strides": [1, 1], "dilations": [1, 1], "pads_begin": [0, 0], "pads_end": [0, 0]}
    for name, cout in (("a", 6), ("b", 3)):
        w = g.add_const(f"{name}/w", rng.standard_normal((cout, 8, 1, 1)).astype(np.float32) / 4).name
        y = g.add_node("Convolution", ["x", w], [f"{name}/y"], attrs, name=name).outputs[0]
        b = g.add_const(f"{name}/b", rng.standard_normal((1, cout, 1, 1)).astype(np.float32)).name
        g.add_node("Add", [y, b], [f"{name}/out"], name=f"{name}/bias")
    g.outputs = ["a/out", "b/out"]
    feeds = _feeds("conv")
    float_outputs = [FloatExecutor(infer_shapes(g)).run(f) for f in feeds]
    report = quantize_graph(g, feeds, tmp_path / "two.xml")
    assert report.corrected_biases == 2
    quantized = FloatExecutor(load_graph(tmp_path / "two.xml"))
    got = [quantized.run(f) for f in feeds]
    for out in g.outputs:
        want = np.mean([o[out] for o in float_outputs], axis=(0, 1, 3, 4))
        np.testing.assert_allclose(np.mean([o[out] for o in got], axis=(0, 1, 3, 4)), want, atol=1e-4)
