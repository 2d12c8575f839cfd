"""The ONNX backend conformance suite (node tests) on gpu_int8's ONNX reader + float reference.

Included: every node test whose model uses only ONNX ops the reader supports
(``supported_onnx_ops()``: mapped, and every canonical op it emits is defined).
Excluded: the patterns in EXCLUDED, each with its reason (they show as skipped;
``-rs`` lists why).  The pass count is pytest's summary line.
"""

from __future__ import annotations

import re
import warnings

import onnx.backend.test
import pytest
from onnx.backend.test.loader import load_model_tests

from gpu_int8.frontends.onnx_reader import supported_onnx_ops
from gpu_int8.onnx_backend import GpuInt8Backend

#: regex over test names -> why the test is out of scope
EXCLUDED: dict[str, str] = {
    # element types the engine does not hold
    r"(?i)float8|e4m3|e5m2|e8m0|float4|int4|int2": "8/4-bit float and 4/2-bit integer element types",
    r"(?i)bfloat16|_bf16": "bfloat16 element type",
    r"_fp16": "float16 arithmetic: the reference rounds to float16 once per op chain, ONNX after every op",
    r"_string": "string tensors",
    r"test_identity_opt|test_identity_sequence": "optional and sequence types",
    # training-time behaviour
    r"training": "training mode (Dropout/BatchNormalization)",
    # ONNX features outside OpenVINO's opset semantics, which the canonical ops follow
    r"_blocked": "blocked quantization (block_size)",
    r"averagepool_.*dilations": "AvgPool has no dilations in OpenVINO's opset",
    r"maxpool_with_argmax_2d_precomputed_strides": "MaxPool indices in column-major storage_order",
    r"test_wrap_pad": "Pad mode 'wrap'",
    r"resize_.*tf_crop_and_resize": "Resize tf_crop_and_resize (roi) mode",
    r"resize_.*exclude_outside": "Resize exclude_outside",
    r"resize_.*half_pixel_symmetric": "Resize half_pixel_symmetric mode",
    r"resize_.*not_(larger|smaller)": "Resize keep_aspect_ratio_policy",
    r"resize_.*antialias": "antialiased Resize: OpenVINO's antialias kernel differs from ONNX's (the op follows "
                           "OpenVINO)",
    r"resize_downsample_scales_(linear|cubic)_align_corners": "ONNX's reference uses the fractional output length "
                                                             "here; ONNX Runtime and OpenVINO (and gpu_int8) use "
                                                             "the integer one",
    r"reduce_(max|min)_empty_set": "reductions of zero-size tensors",
}


def _node_tests_using_supported_ops() -> list[str]:
    supported = set(supported_onnx_ops())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = load_model_tests(kind="node")
    names = []
    for case in cases:
        ops = {node.op_type for node in case.model.graph.node}
        if ops <= supported:
            names.append(case.name)
    return sorted(names)


INCLUDED = _node_tests_using_supported_ops()

backend_test = onnx.backend.test.BackendTest(GpuInt8Backend, __name__)
for _name in INCLUDED:
    backend_test.include(f"^{re.escape(_name)}_cpu$")
for _pattern in EXCLUDED:
    backend_test.exclude(_pattern)

# only the node tests on the CPU, and only the selected ones (excluded ones stay, skipped with their reason);
# the model-zoo categories need downloads or are covered by the model tests
OnnxBackendNodeModelTest = backend_test.test_cases["OnnxBackendNodeModelTest"]
_selected = {f"{name}_cpu" for name in INCLUDED}
for _attr in [a for a in vars(OnnxBackendNodeModelTest) if a.startswith("test_") and a not in _selected]:
    delattr(OnnxBackendNodeModelTest, _attr)


def test_supported_ops_cover_the_vision_models():
    """The ops of the real models (light_*.onnx, PP-OCR) are all in the supported list."""
    needed = {"Conv", "ConvTranspose", "BatchNormalization", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool",
              "Gemm", "Softmax", "Concat", "Reshape", "Sum", "Add", "Mul", "LRN", "Dropout", "Transpose", "Clip",
              "HardSigmoid", "Resize", "Div", "Sigmoid", "Shape", "Cast", "Slice", "ReduceMean", "Sub", "Pow",
              "Sqrt", "MatMul", "Squeeze", "Unsqueeze", "Constant", "ConstantOfShape", "Identity",
              "QuantizeLinear", "DequantizeLinear"}
    missing = needed - set(supported_onnx_ops())
    assert not missing, f"not supported: {sorted(missing)}"


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    excluded = sum(any(re.search(p, f"{n}_cpu") for p in EXCLUDED) for n in INCLUDED)
    print(f"\nONNX node tests using only supported ops: {len(INCLUDED)}; excluded as out of scope: {excluded}; "
          f"expected to pass: {len(INCLUDED) - excluded}")


def test_backend_run_node_and_run_model():
    """The rest of the backend API: run_node (a bare NodeProto) and run_model with named inputs."""
    import numpy as np
    from onnx import helper

    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    node = helper.make_node("Softmax", ["x"], ["y"], axis=1)
    (y,) = GpuInt8Backend.run_node(node, [x])
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-6)
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    (y,) = GpuInt8Backend.run_node(node, [x, np.array([4, -1], np.int64)])  # the int input folds
    assert y.shape == (4, 6)
    model = helper.make_model(helper.make_graph([helper.make_node("Add", ["a", "b"], ["c"])], "g",
                                                [helper.make_tensor_value_info("a", 1, [2]),
                                                 helper.make_tensor_value_info("b", 1, [2])],
                                                [helper.make_empty_tensor_value_info("c")]))
    out = GpuInt8Backend.run_model(model, {"b": np.float32([1, 2]), "a": np.float32([3, 4])})
    np.testing.assert_array_equal(out.c, [4, 6])
    assert GpuInt8Backend.supports_device("CPU") and not GpuInt8Backend.supports_device("CUDA")
