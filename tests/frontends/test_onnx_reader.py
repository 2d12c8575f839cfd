"""The ONNX reader: structure of the graphs it builds, errors it raises, and outputs
checked against ONNX Runtime (the oracle) on hand-built and real models."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from gpu_int8.errors import ModelError, UnsupportedOpError
from gpu_int8.frontends import read_model
from gpu_int8.frontends.fold_batchnorm import fold_batchnorm
from gpu_int8.frontends.onnx_reader import read_onnx, supported_onnx_ops
from gpu_int8.graph import infer_shapes, set_input_shapes
from gpu_int8.reference.float_executor import FloatExecutor

F32 = TensorProto.FLOAT
RNG_SEED = 1234
OCR_DIR = Path(__import__("rapidocr_onnxruntime").__file__).parent / "models"
LIGHT_DIR = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


# -- helpers -------------------------------------------------------------------------

def make_model(nodes, inputs, outputs, initializers=(), opset=13, ir_version=8):
    """inputs: [(name, elem_type, shape)]; outputs: names (types left to the runtime)."""
    graph = helper.make_graph(
        nodes, "test", [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs],
        [helper.make_empty_tensor_value_info(n) for n in outputs],
        [numpy_helper.from_array(np.asarray(a), n) for n, a in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version
    return model


def run_ours(model, feeds, shapes=None):
    graph = read_onnx(model)
    set_input_shapes(graph, shapes or {n: feeds[n].shape for n in graph.inputs})
    infer_shapes(graph)
    out = FloatExecutor(graph).run({n: feeds[n] for n in graph.inputs})
    return [out[n] for n in graph.outputs], graph


def run_ort(model, feeds):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep Q/DQ pairs as written
    source = model if isinstance(model, str) else model.SerializeToString()
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def assert_matches_ort(model, feeds, rtol=1e-5, atol=1e-5):
    ours, graph = run_ours(model, feeds)
    ref = run_ort(model, feeds)
    for name, a, r in zip(graph.outputs, ours, ref):
        assert a.shape == r.shape, f"{name}: shape {a.shape} != {r.shape}"
        assert a.dtype == r.dtype, f"{name}: dtype {a.dtype} != {r.dtype}"
        np.testing.assert_allclose(a, r, rtol=rtol, atol=atol, err_msg=name)
    return graph


def rand(*shape, seed=RNG_SEED):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def op_types(graph):
    return [n.op_type for n in graph.nodes]


# -- graph structure ---------------------------------------------------------------------

def test_inputs_exclude_initializers_listed_as_inputs():
    """IR v3 files list every initializer among the inputs too; those are constants."""
    w = rand(4, 3, 1, 1)
    model = make_model([helper.make_node("Conv", ["x", "w"], ["y"])],
                       [("x", F32, [1, 3, 5, 5]), ("w", F32, [4, 3, 1, 1])], ["y"], [("w", w)], opset=9, ir_version=3)
    graph = read_onnx(model)
    assert graph.inputs == ["x"]
    assert graph.values["w"].is_const
    np.testing.assert_array_equal(graph.values["w"].data, w)


@pytest.mark.parametrize("dim", ["batch", -1, 0, None])
def test_dynamic_dimensions_become_none(dim):
    shape = [dim, 3, 8, 8]
    inp = helper.make_tensor_value_info("x", F32, shape)
    if dim is None:  # a dimension with neither value nor name
        inp.type.tensor_type.shape.dim[0].Clear()
    elif isinstance(dim, int):
        inp.type.tensor_type.shape.dim[0].dim_value = dim
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [inp],
                              [helper.make_empty_tensor_value_info("y")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    g = read_onnx(model)
    assert g.values["x"].shape == (None, 3, 8, 8)
    set_input_shapes(g, {"x": (2, 3, 8, 8)})
    infer_shapes(g)
    assert g.values["y"].shape == (2, 3, 8, 8)


def test_constant_nodes_and_initializers_become_constants():
    nodes = [helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.float32([1, 2, 3]))),
             helper.make_node("Constant", [], ["k"], value_ints=[1, 3]),
             helper.make_node("Add", ["x", "c"], ["s"]),
             helper.make_node("Reshape", ["s", "k"], ["y"])]
    model = make_model(nodes, [("x", F32, [3])], ["y"])
    graph = read_onnx(model)
    assert graph.values["c"].is_const and graph.values["k"].data.dtype == np.int64
    assert_matches_ort(model, {"x": rand(3)})


def test_pass_through_ops_leave_no_node_but_keep_output_names():
    nodes = [helper.make_node("Identity", ["x"], ["a"]), helper.make_node("Dropout", ["a"], ["b"]),
             helper.make_node("Relu", ["b"], ["r"]), helper.make_node("Identity", ["r"], ["y"])]
    model = make_model(nodes, [("x", F32, [2, 3])], ["y"], opset=11)
    graph = read_onnx(model)
    assert op_types(graph) == ["Relu", "Identity"]  # the last Identity keeps the output's ONNX name
    assert graph.outputs == ["y"]
    assert_matches_ort(model, {"x": rand(2, 3)})


def test_supported_list_names_onnx_ops():
    ops = supported_onnx_ops()
    assert {"Conv", "QuantizeLinear", "DequantizeLinear", "Resize", "Gemm"} <= set(ops)


# -- errors ----------------------------------------------------------------------------------

def _save(model, tmp_path, name="m.onnx", **kwargs):
    path = tmp_path / name
    onnx.save(model, str(path), **kwargs)
    return str(path)


def test_unsupported_op_names_file_and_node(tmp_path):
    model = make_model([helper.make_node("Einsum", ["x", "x"], ["y"], name="the_einsum", equation="ij,ij->i")],
                       [("x", F32, [2, 2])], ["y"])
    path = _save(model, tmp_path)
    with pytest.raises(UnsupportedOpError) as err:
        read_onnx(path)
    assert path in str(err.value) and "the_einsum" in str(err.value) and "Einsum" in str(err.value)


def test_foreign_domain_is_unsupported():
    node = helper.make_node("FusedConv", ["x"], ["y"], domain="com.microsoft", name="fc")
    model = make_model([node], [("x", F32, [1])], ["y"])
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    with pytest.raises(UnsupportedOpError, match="com.microsoft"):
        read_onnx(model)


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.97])
def test_truncated_file_is_a_model_error(tmp_path, cut):
    model = onnx.load(str(OCR_DIR / "ch_ppocr_mobile_v2.0_cls_infer.onnx"))
    data = model.SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[:int(len(data) * cut)])
    with pytest.raises(ModelError) as err:
        read_onnx(str(path))
    assert str(path) in str(err.value)


def test_garbage_and_missing_files(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)))
    with pytest.raises(ModelError, match="junk.onnx"):
        read_onnx(str(path))
    with pytest.raises(ModelError, match="no such file"):
        read_onnx(str(tmp_path / "absent.onnx"))


def test_missing_required_attribute_names_the_node():
    model = make_model([helper.make_node("LRN", ["x"], ["y"], name="norm1")], [("x", F32, [1, 3, 4, 4])], ["y"])
    with pytest.raises(ModelError, match=r"norm1.*size"):
        read_onnx(model)


def test_undefined_input_names_the_node():
    model = make_model([helper.make_node("Add", ["x", "ghost"], ["y"], name="adder")], [("x", F32, [2])], ["y"])
    with pytest.raises(ModelError, match=r"adder.*ghost"):
        read_onnx(model)


def test_value_defined_twice_and_bad_attribute_values():
    twice = make_model([helper.make_node("Relu", ["x"], ["y"], name="a"), helper.make_node("Relu", ["x"], ["y"],
                                                                                            name="b")],
                       [("x", F32, [2])], ["y"])
    with pytest.raises(ModelError, match="defined twice"):
        read_onnx(twice)
    bad = make_model([helper.make_node("Conv", ["x", "w"], ["y"], name="c", auto_pad="SIDEWAYS")],
                     [("x", F32, [1, 1, 3, 3])], ["y"], [("w", rand(1, 1, 1, 1))])
    with pytest.raises(ModelError, match=r"'c'.*SIDEWAYS"):
        read_onnx(bad)


def test_unknown_suffix_and_dispatch(tmp_path):
    with pytest.raises(ModelError, match="unknown model format"):
        read_model(str(tmp_path / "model.pb"))
    model = make_model([helper.make_node("Relu", ["x"], ["y"])], [("x", F32, [2])], ["y"])
    graph = read_model(_save(model, tmp_path))
    assert op_types(graph) == ["Relu"]


# -- external data ---------------------------------------------------------------------------

def _external_model(tmp_path):
    w = rand(8, 3, 3, 3)
    model = make_model([helper.make_node("Conv", ["x", "w"], ["y"])], [("x", F32, [1, 3, 6, 6])], ["y"], [("w", w)])
    path = _save(model, tmp_path, save_as_external_data=True, all_tensors_to_one_file=True, location="w.bin",
                 size_threshold=0)
    return path, w


def test_external_data_beside_the_file(tmp_path):
    path, w = _external_model(tmp_path)
    graph = read_onnx(path)
    np.testing.assert_array_equal(graph.values["w"].data, w)
    x = rand(1, 3, 6, 6)
    ours, _ = run_ours(path, {"x": x})
    np.testing.assert_allclose(ours[0], run_ort(path, {"x": x})[0], rtol=1e-5, atol=1e-5)


def _rewrite_external(path, **changes):
    model = onnx.load(path, load_external_data=False)
    entries = model.graph.initializer[0].external_data
    for key, value in changes.items():
        for entry in entries:
            if entry.key == key:
                entry.value = value
                break
        else:
            entries.add(key=key, value=value)
    onnx.save(model, path)


@pytest.mark.parametrize("changes, message", [
    ({"location": "../outside.bin"}, "outside the model's folder"),
    ({"location": "/etc/passwd"}, "relative"),
    ({"location": "absent.bin"}, "does not exist"),
    ({"offset": "64"}, "past the end"),
    ({"length": "12"}, "needs"),
])
def test_external_data_refused(tmp_path, changes, message):
    path, _ = _external_model(tmp_path)
    (tmp_path.parent / "outside.bin").write_bytes(b"\0" * 4096)
    _rewrite_external(path, **changes)
    with pytest.raises(ModelError, match=message):
        read_onnx(path)


def test_external_data_in_a_model_proto_is_refused(tmp_path):
    path, _ = _external_model(tmp_path)
    with pytest.raises(ModelError, match="external"):
        read_onnx(onnx.load(path, load_external_data=False))


# -- op mappings against ONNX Runtime ---------------------------------------------------------

def _case(op, inputs, attrs=None, consts=(), opset=13, outputs=("y",)):
    """One node; ``inputs`` [(name, array)] are graph inputs unless named in ``consts``."""
    consts = dict(consts)
    node = helper.make_node(op, [n for n, _ in inputs], list(outputs), **(attrs or {}))
    graph_inputs = [(n, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape)) for n, a in inputs
                    if n and n not in consts]
    model = make_model([node], graph_inputs, list(outputs), list(consts.items()), opset=opset)
    feeds = {n: np.asarray(a) for n, a in inputs if n and n not in consts}
    return model, feeds


X4 = rand(2, 6, 7, 9)
W_CONV = rand(8, 6, 3, 3, seed=2)
W_GROUP = rand(6, 2, 3, 3, seed=3)
W_DEPTHWISE = rand(6, 1, 3, 3, seed=3)
B8 = rand(8, seed=4)

MAPPING_CASES = {
    "conv_bias_pads": _case("Conv", [("x", X4), ("w", W_CONV), ("b", B8)], {"pads": [1, 0, 2, 1], "strides": [2, 1]},
                            consts={"w": W_CONV, "b": B8}),
    "conv_same_upper_strided": _case("Conv", [("x", X4), ("w", W_CONV)], {"auto_pad": "SAME_UPPER", "strides": [2, 2]},
                                     consts={"w": W_CONV}),
    "conv_dilated": _case("Conv", [("x", X4), ("w", W_CONV)], {"pads": [2, 1, 2, 1], "dilations": [2, 1]},
                          consts={"w": W_CONV}),
    "conv_valid": _case("Conv", [("x", X4), ("w", W_CONV)], {"auto_pad": "VALID"}, consts={"w": W_CONV}),
    "conv_group3": _case("Conv", [("x", X4), ("w", W_GROUP)], {"group": 3, "pads": [1, 1, 1, 1]},
                         consts={"w": W_GROUP}),
    "conv_depthwise_runtime_weights": _case("Conv", [("x", X4), ("w", W_DEPTHWISE)], {"group": 6}),
    "conv_transpose_output_padding": _case("ConvTranspose", [("x", X4), ("w", rand(6, 4, 3, 3))],
                                           {"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 0]},
                                           consts={"w": rand(6, 4, 3, 3)}),
    "conv_transpose_output_shape": _case("ConvTranspose", [("x", X4), ("w", rand(6, 4, 3, 3))],
                                         {"strides": [2, 2], "output_shape": [15, 19]}, consts={"w": rand(6, 4, 3, 3)}),
    "conv_transpose_same_group_bias": _case("ConvTranspose", [("x", X4), ("w", rand(6, 2, 2, 2)), ("b", rand(4))],
                                            {"strides": [2, 2], "group": 2, "auto_pad": "SAME_UPPER"},
                                            consts={"w": rand(6, 2, 2, 2), "b": rand(4)}),
    "maxpool_ceil_pads": _case("MaxPool", [("x", X4)], {"kernel_shape": [3, 3], "strides": [2, 2],
                                                        "pads": [1, 1, 1, 1], "ceil_mode": 1}),
    "maxpool_dilated_indices": _case("MaxPool", [("x", X4)], {"kernel_shape": [2, 2], "dilations": [2, 2]},
                                     outputs=("y", "i")),
    "avgpool_count_include_pad": _case("AveragePool", [("x", X4)], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1],
                                                                    "count_include_pad": 1}),
    "avgpool_same_lower_ceil": _case("AveragePool", [("x", X4)], {"kernel_shape": [2, 3], "strides": [2, 2],
                                                                  "auto_pad": "SAME_LOWER", "ceil_mode": 1}),
    "global_average_pool": _case("GlobalAveragePool", [("x", X4)]),
    "global_max_pool": _case("GlobalMaxPool", [("x", X4)]),
    "gemm_trans_alpha_beta": _case("Gemm", [("a", rand(5, 4)), ("b", rand(3, 5)), ("c", rand(3))],
                                   {"transA": 1, "transB": 1, "alpha": 0.5, "beta": 2.0}, consts={"b": rand(3, 5)}),
    "gemm_runtime_b_alpha": _case("Gemm", [("a", rand(4, 5)), ("b", rand(5, 3))], {"alpha": 3.0}),
    "batchnorm": _case("BatchNormalization", [("x", X4)] + [(n, np.abs(rand(6, seed=i)) + 0.1)
                                                             for i, n in enumerate("sbmv")],
                       {"epsilon": 1e-3}, consts={n: np.abs(rand(6, seed=i)) + 0.1 for i, n in enumerate("sbmv")}),
    "lrn": _case("LRN", [("x", X4)], {"size": 3, "alpha": 1e-3, "beta": 0.75, "bias": 2.0}),
    "softmax_opset11_axis1_4d": _case("Softmax", [("x", X4)], {"axis": 1}, opset=11),
    "softmax_opset11_last": _case("Softmax", [("x", X4)], {"axis": 3}, opset=11),
    "logsoftmax_opset11_axis2": _case("LogSoftmax", [("x", X4)], {"axis": 2}, opset=11),
    "softmax_opset13_axis1": _case("Softmax", [("x", X4)], {"axis": 1}),
    "clip_attrs_opset6": _case("Clip", [("x", X4)], {"min": -0.5, "max": 0.7}, opset=6),
    "clip_inputs_min_only": _case("Clip", [("x", X4), ("lo", np.float32(-0.2))], consts={"lo": np.float32(-0.2)}),
    "clip_runtime_bounds": _case("Clip", [("x", X4), ("lo", np.float32(-0.2)), ("hi", np.float32(0.3))]),
    "hard_sigmoid": _case("HardSigmoid", [("x", X4)], {"alpha": 0.3, "beta": 0.4}),
    "leaky_relu": _case("LeakyRelu", [("x", X4)], {"alpha": 0.2}),
    "prelu_channel": _case("PRelu", [("x", X4), ("s", rand(6, 1, 1))], consts={"s": rand(6, 1, 1)}),
    "prelu_last_axis_same_size": _case("PRelu", [("x", rand(2, 9, 4, 9)), ("s", rand(9))], consts={"s": rand(9)}),
    "sum3": _case("Sum", [("a", X4), ("b", rand(6, 1, 9)), ("c", rand(9))]),
    "mean2": _case("Mean", [("a", X4), ("b", rand(7, 9))]),
    "max3": _case("Max", [("a", X4), ("b", rand(7, 9)), ("c", rand(1))]),
    "pow_int_exponent": _case("Pow", [("x", np.abs(X4)), ("e", np.int64(3))], consts={"e": np.int64(3)}),
    "where_less": _case("Where", [("c", X4 > 0), ("a", X4), ("b", -X4)]),
    "div_int_truncates": _case("Div", [("a", np.array([-7, 7, -8], np.int32)), ("b", np.array([2, -2, 3], np.int32))]),
    "mod_fmod0": _case("Mod", [("a", np.array([-7, 7, -8], np.int32)), ("b", np.array([2, -2, 3], np.int32))]),
    "cast_to_int": _case("Cast", [("x", X4 * 10)], {"to": TensorProto.INT32}),
    "reshape_special_zero": _case("Reshape", [("x", X4), ("s", np.int64([0, -1, 9]))],
                                  consts={"s": np.int64([0, -1, 9])}),
    "flatten_axis2": _case("Flatten", [("x", X4)], {"axis": 2}, opset=11),
    "flatten_axis0": _case("Flatten", [("x", X4)], {"axis": 0}, opset=11),
    "flatten_negative": _case("Flatten", [("x", X4)], {"axis": -1}, opset=11),
    "squeeze_attr_opset11": _case("Squeeze", [("x", rand(2, 1, 3, 1))], {"axes": [3]}, opset=11),
    "squeeze_all": _case("Squeeze", [("x", rand(2, 1, 3, 1))]),
    "unsqueeze_attr_opset11": _case("Unsqueeze", [("x", rand(2, 3))], {"axes": [0, 3]}, opset=11),
    "unsqueeze_input": _case("Unsqueeze", [("x", rand(2, 3)), ("a", np.int64([-1]))], consts={"a": np.int64([-1])}),
    "slice_attr_opset9": _case("Slice", [("x", X4)], {"starts": [1, -4], "ends": [100, -1], "axes": [1, 3]}, opset=9),
    "slice_inputs_negative_step": _case("Slice", [("x", X4), ("s", np.int64([-1])), ("e", np.int64([-100])),
                                                  ("a", np.int64([2])), ("t", np.int64([-2]))],
                                        consts={"s": np.int64([-1]), "e": np.int64([-100]), "a": np.int64([2]),
                                                "t": np.int64([-2])}),
    "pad_attr_opset2_reflect": _case("Pad", [("x", X4)], {"pads": [0, 0, 1, 2, 0, 0, 2, 1], "mode": "reflect"},
                                     opset=2),
    "pad_inputs_value": _case("Pad", [("x", X4), ("p", np.int64([0, 1, 1, 0, 0, 0, 2, 2])), ("v", np.float32(1.5))],
                              consts={"p": np.int64([0, 1, 1, 0, 0, 0, 2, 2]), "v": np.float32(1.5)}, opset=11),
    "pad_edge_axes": _case("Pad", [("x", X4), ("p", np.int64([1, 2, 3, 0])), ("", None), ("a", np.int64([-1, 1]))],
                           {"mode": "edge"}, consts={"p": np.int64([1, 2, 3, 0]), "a": np.int64([-1, 1])}, opset=18),
    "split_attr_opset11": _case("Split", [("x", X4)], {"axis": 1, "split": [2, 4]}, opset=11, outputs=("y", "z")),
    "split_equal": _case("Split", [("x", X4)], {"axis": 1}, outputs=("y", "z", "w")),
    "split_num_outputs_uneven": _case("Split", [("x", X4)], {"axis": 2, "num_outputs": 3}, opset=18,
                                      outputs=("y", "z", "w")),
    "concat_negative_axis": _case("Concat", [("a", X4), ("b", X4[:, :2])], {"axis": -3}),
    "transpose_default": _case("Transpose", [("x", X4)]),
    "gather_negative_indices": _case("Gather", [("x", X4), ("i", np.int64([[-1, 0], [2, 3]]))], {"axis": 1},
                                     consts={"i": np.int64([[-1, 0], [2, 3]])}),
    "depth_to_space_crd": _case("DepthToSpace", [("x", rand(1, 8, 2, 3))], {"blocksize": 2, "mode": "CRD"}),
    "depth_to_space_dcr": _case("DepthToSpace", [("x", rand(1, 8, 2, 3))], {"blocksize": 2}),
    "space_to_depth": _case("SpaceToDepth", [("x", rand(1, 2, 4, 6))], {"blocksize": 2}),
    "resize_nearest_sizes": _case("Resize", [("x", X4), ("", None), ("", None), ("s", np.int64([2, 6, 15, 13]))],
                                  {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                                   "nearest_mode": "floor"}, consts={"s": np.int64([2, 6, 15, 13])}),
    "resize_linear_scales_half_pixel": _case("Resize", [("x", X4), ("r", np.float32([])),
                                                        ("s", np.float32([1, 1, 2, 0.5]))], {"mode": "linear"},
                                             consts={"r": np.float32([]), "s": np.float32([1, 1, 2, 0.5])}),
    "resize_cubic_align_corners": _case("Resize", [("x", X4), ("", None), ("", None), ("s", np.int64([2, 6, 9, 5]))],
                                        {"mode": "cubic", "coordinate_transformation_mode": "align_corners"},
                                        consts={"s": np.int64([2, 6, 9, 5])}),
    "resize_opset10": _case("Resize", [("x", X4), ("s", np.float32([1, 1, 2, 3]))], {"mode": "nearest"},
                            consts={"s": np.float32([1, 1, 2, 3])}, opset=10),
    "upsample_opset9_linear": _case("Upsample", [("x", X4), ("s", np.float32([1, 1, 2, 2]))], {"mode": "linear"},
                                    consts={"s": np.float32([1, 1, 2, 2])}, opset=9),
    "reduce_mean_attr_opset11": _case("ReduceMean", [("x", X4)], {"axes": [1, -1], "keepdims": 0}, opset=11),
    "reduce_sum_input_opset13": _case("ReduceSum", [("x", X4), ("a", np.int64([2]))], consts={"a": np.int64([2])}),
    "reduce_max_all": _case("ReduceMax", [("x", X4)], {"keepdims": 0}),
    "reduce_l2_opset18": _case("ReduceL2", [("x", X4), ("a", np.int64([1]))], consts={"a": np.int64([1])}, opset=18),
    "reduce_log_sum_exp": _case("ReduceLogSumExp", [("x", X4)], {"axes": [1]}, opset=13),
    "instance_norm": _case("InstanceNormalization", [("x", X4), ("s", rand(6)), ("b", rand(6))],
                           consts={"s": rand(6), "b": rand(6)}),
    "layer_norm_axis1": _case("LayerNormalization", [("x", X4), ("s", rand(7, 9)), ("b", rand(7, 9))],
                              {"axis": 2}, consts={"s": rand(7, 9), "b": rand(7, 9)}, opset=17),
    "topk_smallest": _case("TopK", [("x", X4), ("k", np.int64([3]))], {"axis": 1, "largest": 0},
                           consts={"k": np.int64([3])}, outputs=("v", "i")),
    "argmax_no_keepdims": _case("ArgMax", [("x", X4)], {"axis": 2, "keepdims": 0}),
    "argmin_last_index": _case("ArgMin", [("x", np.round(X4))], {"axis": 1, "select_last_index": 1}),
    "expand": _case("Expand", [("x", rand(3, 1)), ("s", np.int64([2, 1, 4]))], consts={"s": np.int64([2, 1, 4])}),
    "tile": _case("Tile", [("x", rand(2, 3)), ("r", np.int64([2, 3]))], consts={"r": np.int64([2, 3])}),
    "range_float": _case("Range", [("a", np.float32(1)), ("b", np.float32(4)), ("c", np.float32(0.5))],
                         consts={"a": np.float32(1), "b": np.float32(4), "c": np.float32(0.5)}),
    "constant_of_shape": _case("ConstantOfShape", [("s", np.int64([2, 3]))],
                               {"value": numpy_helper.from_array(np.float32([2.5]))}, consts={"s": np.int64([2, 3])}),
}


@pytest.mark.parametrize("name", sorted(MAPPING_CASES))
def test_mapping_matches_onnxruntime(name):
    model, feeds = MAPPING_CASES[name]
    assert_matches_ort(model, feeds, rtol=1e-4, atol=1e-5)


def test_shape_subgraph_with_dynamic_batch_folds_away():
    """Shape -> Gather -> Concat -> Reshape: constant once the input shape is fixed."""
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["y"])]
    model = make_model(nodes, [("x", F32, ["N", 6, 7, 9])], ["y"],
                       [("zero", np.int64(0)), ("axes0", np.int64([0])), ("minus1", np.int64([-1]))])
    x = rand(3, 6, 7, 9)
    graph = assert_matches_ort(model, {"x": x})
    assert op_types(graph) == ["Reshape"]


def test_softmax_before_opset13_is_flattened_at_the_axis():
    model, feeds = MAPPING_CASES["softmax_opset11_axis1_4d"]
    assert op_types(read_onnx(model)) == ["Reshape", "Softmax", "ShapeOf", "Reshape"]
    model, feeds = MAPPING_CASES["softmax_opset11_last"]
    assert op_types(read_onnx(model)) == ["Softmax"]


def test_conv_maps_to_openvino_form():
    model, _ = MAPPING_CASES["conv_group3"]
    graph = read_onnx(model)
    conv = graph.nodes[0]
    assert conv.op_type == "GroupConvolution"
    assert graph.values[conv.inputs[1]].shape == (3, 2, 2, 3, 3)
    model, _ = MAPPING_CASES["conv_bias_pads"]
    graph = read_onnx(model)
    assert op_types(graph) == ["Convolution", "Add"]
    assert graph.nodes[0].attrs["pads_begin"] == [1, 0] and graph.nodes[0].attrs["pads_end"] == [2, 1]
    assert graph.values[graph.nodes[1].inputs[1]].shape == (1, 8, 1, 1)


# -- QuantizeLinear / DequantizeLinear ----------------------------------------------------------

def _qdq_model(zp_type, per_axis: bool, zp_values):
    channels = 4
    scale = (np.linspace(0.01, 0.05, channels) if per_axis else np.array(0.02)).astype(np.float32)
    zp = np.asarray(zp_values if per_axis else zp_values[0]).astype(zp_type)
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1)]
    return make_model(nodes, [("x", F32, [3, channels, 16, 16])], ["y"], [("s", scale), ("z", zp)])


@pytest.mark.parametrize("zp_type, per_axis, zp", [
    (np.uint8, False, [128]), (np.int8, False, [0]), (np.uint8, True, [0, 10, 128, 255]),
    (np.int8, True, [-5, 0, 3, 127]),
])
def test_qdq_pair_is_one_fake_quantize_equal_to_onnxruntime(zp_type, per_axis, zp):
    model = _qdq_model(zp_type, per_axis, zp)
    graph = read_onnx(model)
    assert op_types(graph) == ["FakeQuantize"]
    assert graph.nodes[0].attrs["levels"] == 256
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((3, 4, 16, 16)) * 2).astype(np.float32)  # beyond the range too
    step = np.linspace(0.01, 0.05, 4).astype(np.float32)[None, :, None, None] if per_axis else np.float32(0.02)
    steps = np.broadcast_to(step, x.shape)
    # a quarter of the elements on exact ties: x / scale = k + 1/2
    x[0] = ((rng.integers(-6, 6, (4, 16, 16)) + 0.5) * steps[0]).astype(np.float32)
    ours, _ = run_ours(model, {"x": x})
    ref = run_ort(model, {"x": x})[0]
    diff = np.abs(ours[0] - ref)
    whole_steps = diff > steps / 2
    ties = np.isclose(np.abs(x / steps) % 1, 0.5, atol=1e-3)
    print(f"\nQ->DQ as FakeQuantize vs ORT ({np.dtype(zp_type).name}, per_axis={per_axis}): "
          f"{int(whole_steps.sum())} of {x.size} differ by a step, {int((whole_steps & ties).sum())} of them at ties "
          f"(x/scale within 1e-3 of k+0.5: {int(ties.sum())}); max other diff {float(diff[~whole_steps].max()):.2e}")
    assert not np.any(whole_steps & ~ties), "a whole-step difference away from a tie"
    np.testing.assert_allclose(ours[0][~whole_steps], ref[~whole_steps], rtol=0, atol=1e-6)


def test_dequantized_int8_weights_keep_the_nncf_weight_form():
    w_q = np.random.default_rng(3).integers(-127, 128, (8, 6, 3, 3)).astype(np.int8)
    w_scale = np.linspace(0.001, 0.01, 8).astype(np.float32)
    w_zp = np.zeros(8, np.int8)
    x_scale, x_zp = np.float32(0.05), np.uint8(128)
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], axis=0),
             helper.make_node("Conv", ["xd", "wd"], ["y"], pads=[1, 1, 1, 1])]
    model = make_model(nodes, [("x", F32, [1, 6, 10, 10])], ["y"],
                       [("xs", x_scale), ("xz", x_zp), ("wq", w_q), ("ws", w_scale), ("wz", w_zp)])
    x = rand(1, 6, 10, 10)
    graph = read_onnx(model)
    set_input_shapes(graph, {"x": x.shape})
    infer_shapes(graph)
    assert op_types(graph) == ["FakeQuantize", "Convert", "Multiply", "Convolution"]  # zero zp: no Subtract
    convert = graph.nodes[1]
    assert graph.values[convert.inputs[0]].data.dtype == np.int8
    assert graph.values[graph.nodes[2].inputs[1]].shape == (8, 1, 1, 1)
    ours = FloatExecutor(graph).run({"x": x})["y"]
    np.testing.assert_allclose(ours, run_ort(model, {"x": x})[0], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("op, weight_shape, axis, group", [
    ("Conv", (6, 1, 3, 3), 0, 6),  # depthwise: per-output-channel scales on axis 0
    ("Conv", (6, 2, 3, 3), 0, 3),
    ("ConvTranspose", (6, 2, 2, 2), 1, 3),  # [C_in, C_out/G, k, k]: per-output-channel scales on axis 1
])
def test_grouped_dequantized_weights_are_regrouped_in_place(op, weight_shape, axis, group):
    rng = np.random.default_rng(9)
    w_q = rng.integers(-127, 128, weight_shape).astype(np.int8)
    channels = weight_shape[axis]
    w_scale = np.linspace(0.002, 0.02, channels).astype(np.float32)
    w_zp = rng.integers(-3, 4, channels).astype(np.int8)
    nodes = [helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], axis=axis),
             helper.make_node(op, ["x", "wd"], ["y"], group=group, strides=[2, 2])]
    model = make_model(nodes, [("x", F32, [1, 6, 9, 9])], ["y"], [("wq", w_q), ("ws", w_scale), ("wz", w_zp)])
    graph = read_onnx(model)
    set_input_shapes(graph, {"x": (1, 6, 9, 9)})
    infer_shapes(graph)
    conv_type = "GroupConvolution" if op == "Conv" else "GroupConvolutionBackpropData"
    assert op_types(graph) == ["Convert", "Subtract", "Multiply", conv_type]  # no Reshape in the weight chain
    assert graph.values[graph.nodes[0].inputs[0]].shape == (group, weight_shape[0] // group, *weight_shape[1:])
    x = rand(1, 6, 9, 9)
    np.testing.assert_allclose(FloatExecutor(graph).run({"x": x})["y"], run_ort(model, {"x": x})[0],
                               rtol=1e-4, atol=1e-5)


def test_lone_quantize_and_dequantize_are_exact_float_chains():
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1),
             helper.make_node("DequantizeLinear", ["qin", "s2", "z2"], ["d"])]
    scale = np.float32([0.1, 0.2, 0.05])
    model = make_model(nodes, [("x", F32, [2, 3, 5]), ("qin", TensorProto.INT8, [2, 3, 5])], ["q", "d"],
                       [("s", scale), ("z", np.uint8([0, 7, 250])), ("s2", np.float32(0.3)), ("z2", np.int8(-3))])
    x = np.random.default_rng(5).standard_normal((2, 3, 5)).astype(np.float32) * 5
    x[0, 0, :3] = [0.25, 0.35, -0.05]  # ties at x/scale = 2.5, 3.5, -0.5
    qin = np.random.default_rng(6).integers(-128, 128, (2, 3, 5)).astype(np.int8)
    graph = read_onnx(model)
    assert "FakeQuantize" not in op_types(graph)
    ours, _ = run_ours(model, {"x": x, "qin": qin})
    ref = run_ort(model, {"x": x, "qin": qin})
    assert ours[0].dtype == np.uint8
    np.testing.assert_array_equal(ours[0], ref[0])
    np.testing.assert_allclose(ours[1], ref[1], rtol=1e-6)


def test_quantize_with_several_dequantizers_and_other_users():
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["a"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["b"]),
             helper.make_node("Add", ["a", "b"], ["y"])]
    inits = [("s", np.float32(0.1)), ("z", np.int8(0))]
    model = make_model(nodes, [("x", F32, [4, 5])], ["y"], inits)
    graph = read_onnx(model)
    assert op_types(graph) == ["FakeQuantize", "Add"]
    x = rand(4, 5)
    np.testing.assert_allclose(run_ours(model, {"x": x})[0][0], run_ort(model, {"x": x})[0], atol=1e-5)
    # the quantized tensor is also an output: no pairing, it must exist as int8
    model = make_model(nodes, [("x", F32, [4, 5])], ["y", "q"], inits)
    assert "FakeQuantize" not in op_types(read_onnx(model))
    assert_matches_ort(model, {"x": x}, atol=1e-6)


# -- BatchNorm folding -------------------------------------------------------------------------

def _conv_bn_model(group=1, bias=True, extra_user=False, transposed=False):
    c = 6
    w = rand(c, c // group, 3, 3, seed=11)
    stats = [np.abs(rand(c, seed=20 + i)) + 0.2 for i in range(4)]
    nodes = [helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["c"], group=group, pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "g", "beta", "m", "v"], ["y"], epsilon=1e-3)]
    outputs = ["y"]
    if extra_user:
        nodes.append(helper.make_node("Relu", ["c"], ["r"]))
        outputs.append("r")
    inits = [("w", w), ("g", stats[0]), ("beta", stats[1]), ("m", stats[2]), ("v", stats[3])]
    if bias:
        inits.append(("b", rand(c, seed=30)))
    model = make_model(nodes, [("x", F32, [1, c, 8, 8])], outputs, inits)
    if transposed:
        model.graph.node[0].op_type = "ConvTranspose"  # weights [C_in, C_out/group, k, k]: the same shape here
    return model


@pytest.mark.parametrize("group, bias, transposed", [(1, True, False), (1, False, False), (3, True, False),
                                                     (6, False, False), (1, True, True), (2, False, True)])
def test_batchnorm_folds_into_the_convolution(group, bias, transposed):
    model = _conv_bn_model(group, bias, transposed=transposed)
    graph = assert_matches_ort(model, {"x": rand(1, 6, 8, 8)}, rtol=1e-4, atol=1e-4)
    assert "BatchNormInference" not in op_types(graph)
    assert op_types(graph)[-1] == "Add"


def test_batchnorm_stays_when_the_conv_output_has_another_user():
    model = _conv_bn_model(extra_user=True)
    graph = assert_matches_ort(model, {"x": rand(1, 6, 8, 8)}, rtol=1e-4, atol=1e-4)
    assert "BatchNormInference" in op_types(graph)
    assert fold_batchnorm(graph) == 0


# -- real models ------------------------------------------------------------------------------

def _page_input(shape, mean, std):
    import skimage.data
    from PIL import Image

    image = Image.fromarray(skimage.data.page()).convert("RGB").resize((shape[3], shape[2]))
    x = (np.asarray(image, np.float32) / 255 - mean) / std
    return x.transpose(2, 0, 1)[None].astype(np.float32)


@pytest.mark.parametrize("name, shape", [
    ("ch_ppocr_mobile_v2.0_cls_infer.onnx", (1, 3, 48, 192)),
    ("ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 320)),
    ("ch_PP-OCRv4_det_infer.onnx", (1, 3, 320, 320)),
])
def test_ppocr_models_match_onnxruntime(name, shape):
    path = str(OCR_DIR / name)
    x = _page_input(shape, np.float32([0.485, 0.456, 0.406]), np.float32([0.229, 0.224, 0.225]))
    graph = read_onnx(path)
    assert "BatchNormInference" not in op_types(graph)  # every BN follows a (transposed) conv here
    set_input_shapes(graph, {graph.inputs[0]: shape})
    infer_shapes(graph)
    ours = FloatExecutor(graph).run({graph.inputs[0]: x})[graph.outputs[0]]
    ref = run_ort(path, {graph.inputs[0]: x})[0]
    span = float(ref.max() - ref.min())
    err = float(np.abs(ours - ref).max())
    print(f"\n{name} {shape}: max abs err {err:.3g}, output range {span:.3g}")
    assert span > 0 and err <= 1e-3 * span


def _with_random_weights(path: str) -> onnx.ModelProto:
    """A light_*.onnx model with its ConstantOfShape weights replaced by seeded random initializers."""
    model = onnx.load(path)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    rng = np.random.default_rng(0)
    keep = []
    for node in model.graph.node:
        if node.op_type != "ConstantOfShape":
            keep.append(node)
            continue
        shape = [int(d) for d in inits[node.input[0]]]
        if len(shape) > 1:  # He-normal weights
            data = rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))
        else:  # BN scale / variance / bias / mean: positive and near one
            data = rng.uniform(0.5, 1.5, shape)
        model.graph.initializer.append(numpy_helper.from_array(data.astype(np.float32), node.output[0]))
    del model.graph.node[:]
    model.graph.node.extend(keep)
    return model


@pytest.mark.parametrize("name", ["light_squeezenet.onnx", "light_shufflenet.onnx"])
def test_light_models_opset9_match_onnxruntime(name, tmp_path):
    model = _with_random_weights(str(LIGHT_DIR / name))
    # random weights saturate the final softmax: compare the logits before it too
    logits = next(n.input[0] for n in reversed(model.graph.node) if n.op_type == "Softmax")
    model.graph.output.append(helper.make_empty_tensor_value_info(logits))
    path = _save(model, tmp_path)
    graph = read_onnx(path)
    x = np.random.default_rng(1).standard_normal((1, 3, 224, 224)).astype(np.float32)
    set_input_shapes(graph, {graph.inputs[0]: x.shape})
    infer_shapes(graph)
    ours = FloatExecutor(graph).run({graph.inputs[0]: x})
    for output, ref in zip(graph.outputs, run_ort(path, {graph.inputs[0]: x})):
        span = float(ref.max() - ref.min())
        err = float(np.abs(ours[output] - ref).max())
        print(f"\n{name} {output}: max abs err {err:.3g}, output range {span:.3g}")
        assert ours[output].shape == ref.shape and span > 0 and err <= 1e-3 * span


def test_read_model_reads_an_onnx_path(tmp_path):
    path = os.path.join(str(OCR_DIR), "ch_ppocr_mobile_v2.0_cls_infer.onnx")
    graph = read_model(path)
    assert graph.source == path and graph.values[graph.inputs[0]].shape[1] == 3
