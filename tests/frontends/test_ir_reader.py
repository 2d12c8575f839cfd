"""OpenVINO IR reader and writer, checked against OpenVINO itself.

OpenVINO writes the files (from hand-built models, and from the real ONNX
models of the onnx and rapidocr wheels, float, fp16-compressed and NNCF int8);
gpu_int8 reads them, and its float reference must give OpenVINO's outputs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from gpu_int8.errors import ModelError, UnsupportedOpError
from gpu_int8.frontends.ir_attributes import format_attr, parse_attr
from gpu_int8.frontends.ir_layers import parse_shape
from gpu_int8.frontends.ir_reader import read_ir
from gpu_int8.frontends.ir_writer import write_ir
from gpu_int8.graph import Graph, infer_shapes, set_input_shapes
from gpu_int8.ops import REGISTRY
from gpu_int8.reference.float_executor import FloatExecutor

ov = pytest.importorskip("openvino")
ops = pytest.importorskip("openvino.opset13")

F32_HINT = {"INFERENCE_PRECISION_HINT": "f32"}


# -- models built and saved by OpenVINO ----------------------------------------------------

def build_small_model(dynamic: bool):
    """Conv, bias, ReLU, an NNCF-style i8 weight chain, MaxPool-8 (both outputs), Split,
    an fp16 constant, Concat, FakeQuantize, ReduceMean, Reshape, MatMul, Softmax, TopK-11."""
    rng = np.random.default_rng(1)
    f32 = np.float32
    x = ops.parameter([-1, 3, -1, -1] if dynamic else [1, 3, 16, 16], f32, name="image")
    conv = ops.convolution(x, ops.constant((rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(f32)),
                           [1, 1], [1, 1], [1, 1], [1, 1])
    relu = ops.relu(ops.add(conv, ops.constant((rng.standard_normal((1, 8, 1, 1)) * 0.1).astype(f32))))
    w_i8 = ops.constant(rng.integers(-127, 128, (8, 1, 1, 3, 3)).astype(np.int8))
    w = ops.multiply(ops.convert(w_i8, "f32"), ops.constant(rng.uniform(0.005, 0.02, (8, 1, 1, 1, 1)).astype(f32)))
    group = ops.group_convolution(relu, w, [1, 1], [1, 1], [1, 1], [1, 1])
    pool = ops.max_pool(group, [2, 2], [1, 1], [0, 0], [0, 0], [2, 2], "floor", "explicit", "i64", 0)
    halves = ops.split(pool.output(0), ops.constant(np.int64(1)), 2)
    scale16 = ops.convert(ops.constant(rng.uniform(0.5, 1.5, (1, 4, 1, 1)).astype(np.float16)), "f32")
    cat = ops.concat([halves.output(1), ops.multiply(halves.output(0), scale16)], 1)
    fq = ops.fake_quantize(cat, ops.constant(f32(0)), ops.constant(f32(2.5)), ops.constant(f32(0)),
                           ops.constant(f32(2.5)), 256)
    mean = ops.reduce_mean(fq, ops.constant(np.array([2, 3], np.int64)), False)
    flat = ops.reshape(mean, ops.constant(np.array([0, -1], np.int64)), True)
    logits = ops.matmul(flat, ops.constant(rng.standard_normal((10, 8)).astype(f32)), False, True)
    probs = ops.softmax(logits, -1)
    top = ops.topk(logits, ops.constant(np.int64(3)), -1, "max", "value", "i32")
    logits.output(0).set_names({"logits"})
    probs.output(0).set_names({"probs"})
    return ov.Model([logits.output(0), probs.output(0), pool.output(1), top.output(0), top.output(1)], [x], "small")


@pytest.fixture(scope="module")
def small_ir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("small") / "small.xml"
    ov.save_model(build_small_model(dynamic=True), str(path), compress_to_fp16=False)
    return path


@pytest.fixture(scope="module")
def small_ir_v10(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("small10") / "small.xml"
    from openvino import passes

    manager = passes.Manager()
    manager.register_pass(passes.Serialize(str(path), str(path.with_suffix(".bin")), passes.Version.IR_V10))
    manager.run_passes(build_small_model(dynamic=False))
    return path


# -- helpers ---------------------------------------------------------------------------

def load_checked(xml: Path, shape=None) -> Graph:
    """Read, fix the input shape, run the shape pass; it must agree with every static port OpenVINO wrote."""
    graph = read_ir(xml)
    declared = {name: value.shape for name, value in graph.values.items()}
    set_input_shapes(graph, {graph.inputs[0]: shape} if shape else None)
    infer_shapes(graph)
    for name, value in graph.values.items():
        dims = declared.get(name)
        if dims is not None and None not in dims and name not in graph.inputs:
            assert tuple(dims) == tuple(value.shape), f"{name}: IR says {dims}, inferred {value.shape}"
    return graph


def run_both(xml: Path, shape=None, seed: int = 0, low: float | None = None, every_tensor: bool = False):
    """(graph, gpu_int8 outputs, OpenVINO outputs) on one random input, outputs listed in model order.

    With ``every_tensor`` the lists hold every named intermediate tensor too, so
    a saturated output (a Softmax of large logits) cannot hide an error upstream.
    """
    graph = load_checked(xml, shape)
    rng = np.random.default_rng(seed)
    in_shape = graph.values[graph.inputs[0]].shape
    feed = (rng.uniform(low, 1.0, in_shape) if low is not None else rng.standard_normal(in_shape)).astype(np.float32)
    ours = FloatExecutor(graph).run({graph.inputs[0]: feed}, keep_all=every_tensor)
    model = ov.Core().read_model(str(xml))
    if every_tensor:
        model.add_outputs([out for op in model.get_ordered_ops() if op.get_type_name() not in ("Parameter", "Result")
                           for out in op.outputs() if out.get_names()])
    compiled = ov.Core().compile_model(model, "CPU", F32_HINT)
    ref = compiled({0: feed})
    names = list(graph.outputs)
    if every_tensor:
        ref_by_name = {name: ref[out] for out in compiled.outputs for name in out.get_names()}
        inner = [name for node in graph.nodes for name in node.outputs if name in ref_by_name and name in ours]
        return graph, [ours[n] for n in names + inner], [ref[o] for o in compiled.outputs[:len(names)]] + \
            [ref_by_name[n] for n in inner]
    return graph, [ours[name] for name in names], [ref[out] for out in compiled.outputs]


def assert_close(ours: list[np.ndarray], ref: list[np.ndarray], tol: float = 1e-3) -> list[float]:
    """Every output within ``tol`` of its range; returns the error/range figures."""
    figures = []
    for a, b in zip(ours, ref, strict=True):
        assert a.shape == b.shape
        if b.dtype.kind in "iub":
            np.testing.assert_array_equal(a, b)
            figures.append(0.0)
            continue
        spread = float(b.max() - b.min())
        error = float(np.abs(a.astype(np.float64) - b).max())
        assert error <= tol * spread + 1e-6, f"max error {error:.3g} over range {spread:.3g}"
        figures.append(error / max(spread, 1e-30))
    return figures


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# -- attributes ------------------------------------------------------------------------

@pytest.mark.parametrize("kind, text, value", [
    ("int", "3", 3), ("int", " -2 ", -2), ("float", "9.9999997473787516e-05", 9.9999997473787516e-05),
    ("ints", "1, 2,3", [1, 2, 3]), ("ints", "", []), ("floats", "0.5, -1e3", [0.5, -1000.0]),
    ("bool", "true", True), ("bool", "false", False), ("str", "same_upper", "same_upper"),
    ("dtype", "f32", "f32"), ("dtype", "boolean", "boolean"),
])
def test_attributes_parse_by_schema_kind(kind, text, value):
    assert parse_attr(kind, text) == value
    assert parse_attr(kind, format_attr(value, kind)) == value


@pytest.mark.parametrize("text, shape", [("1,3,224,224", (1, 3, 224, 224)), ("?,3,-1,1..10", (None, 3, None, None)),
                                         ("", ()), ("1, 2", (1, 2)), ("...", None), ("..8,3", (None, 3))])
def test_shapes_parse_with_dynamic_dimensions(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text", ["1,-2", "1,,2", "x", "1.5", str(2**70)])
def test_malformed_shapes_are_rejected(text):
    with pytest.raises(ValueError):
        parse_shape(text)


@pytest.mark.parametrize("kind, text", [("int", "1.5"), ("int", "0x10"), ("ints", "1,,2"), ("float", "abc"),
                                        ("bool", "yes"), ("dtype", "float32"), ("int", "1_000")])
def test_malformed_attributes_are_rejected(kind, text):
    with pytest.raises(ValueError):
        parse_attr(kind, text)


# -- constants of every element type ------------------------------------------------------

@pytest.mark.parametrize("element", ["f32", "f16", "bf16", "f64", "i4", "u4", "u1", "i8", "u8", "i16", "u16",
                                     "i32", "u32", "i64", "u64", "boolean"])
def test_constants_decode_like_openvino(tmp_path, element):
    rng = np.random.default_rng(7)
    values = {"i4": rng.integers(-8, 8, 13), "u4": rng.integers(0, 16, 13), "u1": rng.integers(0, 2, 13),
              "boolean": rng.integers(0, 2, 13)}.get(element, rng.integers(-100, 100, 13) * 1.25)
    if element[0] == "u":
        values = np.abs(values)
    const = ops.constant(values.reshape(13, 1), dtype=getattr(ov.Type, element))
    x = ops.parameter([13, 1], np.float64, name="x")
    model = ov.Model([ops.add(ops.convert(const, "f64"), x).output(0)], [x])
    path = tmp_path / f"{element}.xml"
    ov.save_model(model, str(path), compress_to_fp16=False)
    expected = ov.Core().compile_model(model, "CPU")({0: np.zeros((13, 1))})[0]

    graph = read_ir(path)
    (data,) = [v.data for v in graph.values.values() if v.is_const]
    assert data.shape == (13, 1)
    np.testing.assert_array_equal(data.astype(np.float64), expected)


# -- a hand-built model, IR v11 (dynamic shapes) and v10 ----------------------------------

def test_small_model_structure(small_ir):
    graph = read_ir(small_ir)
    assert graph.inputs == ["image"]
    assert graph.values["image"].shape == (None, 3, None, None)
    assert graph.values["image"].dtype == np.float32
    assert graph.outputs[:2] == ["logits", "probs"]
    by_type = {node.op_type: node for node in graph.nodes}
    assert {"Relu", "Softmax", "MaxPool", "Split", "FakeQuantize", "Convert"} <= set(by_type)
    pool = by_type["MaxPool"]
    assert pool.attrs["opset"] == 8 and pool.attrs["kernel"] == [2, 2] and pool.attrs["rounding_type"] == "floor"
    assert graph.outputs[2] == pool.outputs[1]  # the indices port is MaxPool's second output
    assert graph.values[pool.outputs[1]].dtype == np.int64
    assert len(by_type["Split"].outputs) == 2
    top = by_type["TopK"]
    assert top.attrs["opset"] == 11 and graph.outputs[3:] == top.outputs
    assert graph.values[top.outputs[1]].dtype == np.int32  # the indices port's precision
    assert by_type["FakeQuantize"].attrs["levels"] == 256
    weights = [graph.values[n.inputs[0]] for n in graph.nodes if n.op_type == "Convert"]
    assert {w.dtype for w in weights} == {np.dtype(np.int8), np.dtype(np.float16)}


@pytest.mark.parametrize("shape", [(1, 3, 16, 16), (2, 3, 20, 24)])
def test_small_model_matches_openvino(small_ir, shape):
    graph, ours, ref = run_both(small_ir, shape)
    assert_close(ours, ref)


def test_ir_v10_matches_openvino(small_ir_v10):
    assert 'version="10"' in small_ir_v10.read_text()[:200]
    graph, ours, ref = run_both(small_ir_v10)
    assert graph.values["image"].shape == (1, 3, 16, 16)
    assert_close(ours, ref)


# -- real models: every layer type parses, outputs match OpenVINO ---------------------------

def _onnx_model(name: str) -> str:
    if name.startswith("light_"):
        import onnx
        return os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", f"{name}.onnx")
    rapidocr = pytest.importorskip("rapidocr_onnxruntime")
    return os.path.join(os.path.dirname(rapidocr.__file__), "models", f"{name}.onnx")


def randomize_weights(xml: Path, seed: int = 0) -> None:
    """Give the light_* models (all-equal weights) He-normal weights, in place in the .bin.

    With equal weights every logit is the same and a comparison proves nothing.
    """
    rng = np.random.default_rng(seed)
    blob = np.memmap(xml.with_suffix(".bin"), dtype=np.uint8, mode="r+")
    for layer in ET.parse(xml).getroot().iter("layer"):
        data = layer.find("data")
        if layer.get("type") != "Const" or data.get("element_type") not in ("f32", "f16"):
            continue
        shape = [int(d) for d in data.get("shape").split(",")] if data.get("shape").strip() else []
        if len(shape) < 2:
            continue
        dtype = np.float32 if data.get("element_type") == "f32" else np.float16
        values = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))
        offset = int(data.get("offset"))
        blob[offset:offset + int(data.get("size"))] = np.frombuffer(values.astype(dtype).tobytes(), np.uint8)
    blob.flush()


REAL_MODELS = {  # name: input shape for the comparison (None: as declared)
    "ch_ppocr_mobile_v2.0_cls_infer": (1, 3, 48, 192),
    "ch_PP-OCRv4_rec_infer": (1, 3, 48, 160),
    "ch_PP-OCRv4_det_infer": (1, 3, 256, 256),
    "light_squeezenet": None,
    "light_shufflenet": None,
    "light_inception_v1": None,
}


# Converting in a child process keeps OpenVINO's converter telemetry out of this one: its sender
# forks from a background thread, which deadlocked a concurrent multithreaded BLAS call here.
_CONVERT = """
import sys
import openvino as ov
source, folder = sys.argv[1], sys.argv[2]
model = ov.convert_model(source)
ov.save_model(model, folder + "/f32.xml", compress_to_fp16=False)  # first: compression may touch the model
ov.save_model(model, folder + "/fp16.xml", compress_to_fp16=True)
ov.save_model(ov.Core().read_model(source), folder + "/frontend.xml", compress_to_fp16=False)
"""

VARIANTS = ("f32", "fp16", "frontend")  # convert_model, with fp16 weights, the ONNX frontend alone (unfused)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """``converted(name, variant)``: the OpenVINO IR of a real ONNX model (variant in VARIANTS)."""
    root = tmp_path_factory.mktemp("real")

    def get(name: str, variant: str) -> Path:
        folder = root / name
        if not folder.exists():
            folder.mkdir()
            subprocess.run([sys.executable, "-c", _CONVERT, _onnx_model(name), str(folder)], check=True, timeout=600)
            if name.startswith("light_"):
                for v in VARIANTS:
                    randomize_weights(folder / f"{v}.xml")
        return folder / f"{variant}.xml"
    return get


def _missing_ops(xml: Path) -> set[str]:
    from gpu_int8.frontends.ir_format import IR_TO_OP_TYPE
    types = set(re.findall(r'<layer [^>]*type="(\w+)"', xml.read_text()))
    return {t for t in types - {"Parameter", "Const", "Result"} if IR_TO_OP_TYPE.get(t, t) not in REGISTRY}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", list(REAL_MODELS))
def test_real_model_matches_openvino(converted, name, variant):
    xml = converted(name, variant)
    assert not _missing_ops(xml), f"op types without a gpu_int8 definition: {_missing_ops(xml)}"
    if name.startswith("light_") and variant == "frontend":
        load_checked(xml)  # weights are computed (ConstantOfShape), all equal: nothing to compare
        return
    low = -1.0 if name.startswith("ch_") else None
    graph, ours, ref = run_both(xml, REAL_MODELS[name], low=low, every_tensor=True)
    assert len(ours) > len(graph.nodes) // 3, "most intermediate tensors should be compared"
    figures = assert_close(ours, ref)
    print(f"{name} {variant}: {len(figures)} tensors, max error / range {max(figures):.2e}, "
          f"at the outputs {max(figures[:len(graph.outputs)]):.2e}")


def test_nncf_int8_model_matches_openvino(converted, tmp_path):
    nncf = pytest.importorskip("nncf")
    shape = REAL_MODELS["ch_ppocr_mobile_v2.0_cls_infer"]
    model = ov.Core().read_model(str(converted("ch_ppocr_mobile_v2.0_cls_infer", "f32")))
    rng = np.random.default_rng(3)
    samples = [rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(3)]
    quantized = nncf.quantize(model, nncf.Dataset(samples), subset_size=3)
    xml = tmp_path / "cls_int8.xml"
    ov.save_model(quantized, str(xml))
    graph, ours, ref = run_both(xml, shape, seed=5, low=-1.0)
    assert sum(n.op_type == "FakeQuantize" for n in graph.nodes) > 10
    weight_chains = [n for n in graph.nodes if n.op_type == "Convert" and graph.values[n.inputs[0]].dtype == np.int8]
    assert weight_chains, "NNCF's i8 weight -> Convert chain must survive the shape pass"
    cos = cosine(ours[0], ref[0])
    print(f"NNCF cls int8: cosine {cos:.6f}, max error {np.abs(ours[0] - ref[0]).max():.3g}")
    assert cos >= 0.999


# -- the writer ------------------------------------------------------------------------

def assert_same_graph(a: Graph, b: Graph) -> None:
    assert a.inputs == b.inputs and a.outputs == b.outputs
    assert [(n.op_type, n.name, n.inputs, n.outputs, n.attrs) for n in a.nodes] == \
           [(n.op_type, n.name, n.inputs, n.outputs, n.attrs) for n in b.nodes]
    for name, value in a.values.items():
        other = b.values[name]
        assert (value.shape, value.dtype, value.is_const) == (other.shape, other.dtype, other.is_const), name
        if value.is_const:
            np.testing.assert_array_equal(value.data, other.data)


@pytest.mark.parametrize("which", ["small", "cls_fp16", "squeezenet"])
def test_write_read_round_trip(small_ir, converted, tmp_path, which):
    source = {"small": lambda: small_ir, "cls_fp16": lambda: converted("ch_ppocr_mobile_v2.0_cls_infer", "fp16"),
              "squeezenet": lambda: converted("light_squeezenet", "f32")}[which]()
    graph = read_ir(source)
    out = tmp_path / "written.xml"
    write_ir(graph, out)
    assert_same_graph(graph, read_ir(out))

    core = ov.Core()
    original, written = core.compile_model(str(source), "CPU", F32_HINT), core.compile_model(str(out), "CPU", F32_HINT)
    shape = [1 if d.is_dynamic else d.get_length() for d in original.inputs[0].get_partial_shape()]
    shape = [s if s > 1 or i < 2 else 64 for i, s in enumerate(shape)]
    feed = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    expected, got = original({0: feed}), written({0: feed})
    assert [o.get_any_name() for o in written.outputs] == [o.get_any_name() for o in original.outputs]
    for a, b in zip(original.outputs, written.outputs):
        np.testing.assert_allclose(got[b], expected[a], rtol=1e-5, atol=1e-6)


def test_written_inferred_graph_runs_in_openvino(small_ir, tmp_path):
    """A shape-inferred, constant-folded graph (what ``quantize`` writes) loads and agrees."""
    graph = read_ir(small_ir)
    set_input_shapes(graph, {"image": (1, 3, 12, 12)})
    infer_shapes(graph)
    write_ir(graph, tmp_path / "folded.xml")
    feed = np.random.default_rng(2).standard_normal((1, 3, 12, 12)).astype(np.float32)
    compiled = ov.Core().compile_model(str(tmp_path / "folded.xml"), "CPU", F32_HINT)
    ours = FloatExecutor(graph).run({"image": feed})
    assert_close([ours[name] for name in graph.outputs], [compiled({0: feed})[o] for o in compiled.outputs])


def test_writer_fills_opset_and_defaults_for_hand_built_graphs(tmp_path):
    """Nodes without ``opset`` or default attributes (as other frontends build them) still load."""
    rng = np.random.default_rng(4)
    graph = Graph("hand")
    graph.add_input("x", (1, 4, 9, 9), np.float32)
    graph.add_const("w", rng.standard_normal((6, 4, 3, 3)).astype(np.float32))
    graph.add_const("shift", rng.standard_normal((1, 6, 1, 1)).astype(np.float32))
    graph.add_node("Convolution", ["x", "w"], ["conv"], {"strides": [1, 1], "dilations": [1, 1],
                                                         "pads_begin": [1, 1], "pads_end": [1, 1]})
    graph.add_node("Add", ["conv", "shift"], ["biased"])
    graph.add_node("Relu", ["biased"], ["relu"])
    graph.add_node("MaxPool", ["relu"], ["pool"], {"kernel": [3, 3], "strides": [2, 2], "note": "kept as text"})
    graph.add_node("Softmax", ["pool"], ["probs"], {"axis": 1})
    graph.add_node("Identity", ["probs"], ["y"])  # not an OpenVINO op: "y" becomes a second name of "probs"
    graph.outputs = ["y"]
    infer_shapes(graph)
    write_ir(graph, tmp_path / "hand.xml")
    text = (tmp_path / "hand.xml").read_text()
    assert 'type="ReLU"' in text and 'type="SoftMax"' in text and 'type="MaxPool" version="opset8"' in text
    assert "Identity" not in text
    feed = rng.standard_normal((1, 4, 9, 9)).astype(np.float32)
    compiled = ov.Core().compile_model(str(tmp_path / "hand.xml"), "CPU", F32_HINT)
    assert "y" in compiled.outputs[0].get_names()
    assert_close([FloatExecutor(graph).run({"x": feed})["y"]], [compiled({0: feed})[0]])


def test_writer_takes_graphs_read_from_onnx(tmp_path):
    """The quantize stage writes graphs that came from ONNX: no opset attributes, ONNX-side names."""
    from gpu_int8.frontends.onnx_reader import read_onnx

    graph = read_onnx(_onnx_model("ch_ppocr_mobile_v2.0_cls_infer"))
    set_input_shapes(graph, {graph.inputs[0]: (1, 3, 48, 192)})
    infer_shapes(graph)
    write_ir(graph, tmp_path / "from_onnx.xml")
    feed = np.random.default_rng(6).uniform(-1, 1, (1, 3, 48, 192)).astype(np.float32)
    compiled = ov.Core().compile_model(str(tmp_path / "from_onnx.xml"), "CPU", F32_HINT)
    ours = FloatExecutor(graph).run({graph.inputs[0]: feed})
    assert_close([ours[name] for name in graph.outputs], [compiled({0: feed})[o] for o in compiled.outputs])


# -- errors name the file, the layer and the problem ---------------------------------------

def _edit(tmp_path: Path, source: Path, old: str, new: str, count: int = 1) -> Path:
    text = source.read_text()
    assert old in text, old
    target = tmp_path / "edited.xml"
    target.write_text(text.replace(old, new, count))
    target.with_suffix(".bin").write_bytes(source.with_suffix(".bin").read_bytes())
    return target


def _layer_line(xml: Path, layer_type: str) -> tuple[str, str, str]:
    """(the <layer ...> line, its id, its name) of the first layer of ``layer_type``."""
    match = re.search(rf'<layer id="(\d+)" name="([^"]*)" type="{layer_type}"[^>]*>', xml.read_text())
    return match.group(0), match.group(1), match.group(2)


def test_unknown_op_names_layer_id_and_type(small_ir, tmp_path):
    line, layer_id, name = _layer_line(small_ir, "ReLU")
    bad = _edit(tmp_path, small_ir, line, line.replace('type="ReLU"', 'type="Frobnicate"'))
    with pytest.raises(UnsupportedOpError) as info:
        read_ir(bad)
    message = str(info.value)
    assert "Frobnicate" in message and f"id={layer_id}" in message and name in message and "edited.xml" in message


def test_missing_required_attribute(small_ir, tmp_path):
    text = small_ir.read_text()
    data = re.search(r'<data levels="256" auto_broadcast="numpy" />', text).group(0)
    bad = _edit(tmp_path, small_ir, data, '<data auto_broadcast="numpy" />')
    with pytest.raises(ModelError, match=r"FakeQuantize.*levels"):
        read_ir(bad)


def test_malformed_attribute(small_ir, tmp_path):
    bad = _edit(tmp_path, small_ir, 'kernel="2, 2"', 'kernel="2, two"')
    with pytest.raises(ModelError, match=r"MaxPool.*kernel.*'two'"):
        read_ir(bad)


def test_duplicate_layer_id(small_ir, tmp_path):
    line, layer_id, _ = _layer_line(small_ir, "ReLU")
    other, other_id, _ = _layer_line(small_ir, "SoftMax")
    bad = _edit(tmp_path, small_ir, other, other.replace(f'id="{other_id}"', f'id="{layer_id}"'))
    with pytest.raises(ModelError, match=rf"layer id {layer_id} is used twice"):
        read_ir(bad)


def test_edge_to_missing_layer(small_ir, tmp_path):
    edge = re.search(r'<edge from-layer="\d+"', small_ir.read_text()).group(0)
    bad = _edit(tmp_path, small_ir, edge, '<edge from-layer="9999"')
    with pytest.raises(ModelError, match=r"layer id=9999, which does not exist"):
        read_ir(bad)


def test_edge_to_missing_port(small_ir, tmp_path):
    edge = re.search(r'to-port="1" />', small_ir.read_text()).group(0)
    bad = _edit(tmp_path, small_ir, edge, 'to-port="77" />')
    with pytest.raises(ModelError, match=r"port 77, which is not an input port"):
        read_ir(bad)


def test_unconnected_input_port(small_ir, tmp_path):
    edge = re.search(r'\s*<edge [^>]*to-port="1" />', small_ir.read_text()).group(0)
    bad = _edit(tmp_path, small_ir, edge, "")
    with pytest.raises(ModelError, match=r"input port 1 is connected to nothing"):
        read_ir(bad)


def test_constant_outside_the_bin(small_ir, tmp_path):
    bad = _edit(tmp_path, small_ir, "<layers>", "<layers>")
    bad.with_suffix(".bin").write_bytes(small_ir.with_suffix(".bin").read_bytes()[:100])
    with pytest.raises(ModelError, match=r"outside the \.bin"):
        read_ir(bad)


def test_constant_size_must_fit_shape(small_ir, tmp_path):
    text = small_ir.read_text()
    data = re.search(r'<data element_type="f32" shape="8, 3, 3, 3" offset="(\d+)" size="864" />', text).group(0)
    bad = _edit(tmp_path, small_ir, data, data.replace('size="864"', 'size="860"'))
    with pytest.raises(ModelError, match=r"size 860 does not fit shape \[8, 3, 3, 3\]"):
        read_ir(bad)


def test_constant_shape_must_fit_its_port(small_ir, tmp_path):
    bad = _edit(tmp_path, small_ir, 'shape="8, 3, 3, 3"', 'shape="8, 3, 9"')
    with pytest.raises(ModelError, match=r"does not fit"):
        read_ir(bad)


def test_negative_offset(small_ir, tmp_path):
    bad = _edit(tmp_path, small_ir, 'offset="0"', 'offset="-8"')
    with pytest.raises(ModelError, match=r"negative offset"):
        read_ir(bad)


def test_unknown_element_type(small_ir, tmp_path):
    bad = _edit(tmp_path, small_ir, 'element_type="i8"', 'element_type="q7"')
    with pytest.raises(ModelError, match=r"element_type 'q7'"):
        read_ir(bad)


def test_missing_bin_file(small_ir, tmp_path):
    bad = _edit(tmp_path, small_ir, "<layers>", "<layers>")
    bad.with_suffix(".bin").unlink()
    with pytest.raises(ModelError, match=r"cannot read the weights file"):
        read_ir(bad)


def test_doctype_and_entities_are_refused(small_ir, tmp_path):
    laughs = '<!DOCTYPE net [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
    bad = _edit(tmp_path, small_ir, '<?xml version="1.0"?>\n', '<?xml version="1.0"?>\n' + laughs)
    with pytest.raises(ModelError, match=r"DOCTYPE"):
        read_ir(bad)


def test_old_ir_version_is_refused(small_ir, tmp_path):
    bad = _edit(tmp_path, small_ir, 'version="11"', 'version="7"')
    with pytest.raises(ModelError, match=r"IR version 7 is not supported"):
        read_ir(bad)


def test_truncated_xml(small_ir, tmp_path):
    bad = tmp_path / "cut.xml"
    bad.write_bytes(small_ir.read_bytes()[:3000])
    with pytest.raises(ModelError, match=r"not well-formed XML"):
        read_ir(bad)


def test_cycle(small_ir, tmp_path):
    """Feed the ReLU's output back into the Add before it: no topological order exists."""
    text = small_ir.read_text()
    _, add_id, _ = _layer_line(small_ir, "Add")
    _, relu_id, _ = _layer_line(small_ir, "ReLU")
    into_add = re.search(rf'<edge from-layer="\d+" from-port="\d+" to-layer="{add_id}" to-port="0" />', text)
    relu_port = re.search(rf'<edge from-layer="{relu_id}" from-port="(\d+)"', text).group(1)
    bad = _edit(tmp_path, small_ir, into_add.group(0),
                f'<edge from-layer="{relu_id}" from-port="{relu_port}" to-layer="{add_id}" to-port="0" />')
    with pytest.raises(ModelError, match=r"cycle"):
        read_ir(bad)
