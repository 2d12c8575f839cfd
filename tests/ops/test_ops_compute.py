"""Compute-heavy ops against OpenVINO's CPU plugin (float32), whose opset semantics they follow.

Each case builds the same single op twice: as an OpenVINO opset node (data inputs
as Parameters, the rest as Constants) and as a one-node gpu_int8 Graph, which goes
through the shape pass (``infer``) and the float executor (``run``).  Shapes,
dtypes and values must agree.
"""

from __future__ import annotations

import numpy as np
import pytest

ov = pytest.importorskip("openvino")
from openvino import opset1, opset2, opset4, opset5, opset6, opset8, opset10, opset11, opset12, opset13, opset14  # noqa: E402

from gpu_int8.graph import Graph, infer_shapes  # noqa: E402
from gpu_int8.reference.float_executor import FloatExecutor  # noqa: E402

CORE = ov.Core()
RNG_SEED = 20240611


class Data:
    """An input that stays a runtime input (OpenVINO Parameter, gpu_int8 graph input)."""

    def __init__(self, array):
        self.array = np.asarray(array)


def run_openvino(build, inputs) -> list[np.ndarray]:
    params, args = [], []
    for item in inputs:
        if isinstance(item, Data):
            param = opset13.parameter(list(item.array.shape), item.array.dtype)
            params.append((param, item.array))
            args.append(param)
        elif item is None:
            args.append(None)
        else:
            args.append(opset13.constant(np.asarray(item)))
    node = build(*args)
    model = ov.Model([out for out in node.outputs()], [p for p, _ in params])
    compiled = CORE.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    results = compiled([a for _, a in params])
    return [np.asarray(results[out]) for out in compiled.outputs]


def run_ours(op_type: str, attrs: dict, inputs, outputs: int = 1) -> list[np.ndarray]:
    graph = Graph("case")
    names, feeds = [], {}
    for i, item in enumerate(inputs):
        if item is None:
            names.append("")
        elif isinstance(item, Data):
            graph.add_input(f"in{i}", item.array.shape, item.array.dtype)
            feeds[f"in{i}"] = item.array
            names.append(f"in{i}")
        else:
            graph.add_const(f"const{i}", np.asarray(item))
            names.append(f"const{i}")
    node = graph.add_node(op_type, names, outputs, attrs, name="op")
    graph.outputs = list(node.outputs)
    infer_shapes(graph)
    results = FloatExecutor(graph).run(feeds)
    arrays = [results[name] for name in node.outputs]
    for name, array in zip(node.outputs, arrays):
        value = graph.values[name]
        assert tuple(array.shape) == value.shape, f"infer says {value.shape}, run gives {array.shape}"
        assert array.dtype == value.dtype, f"infer says {value.dtype}, run gives {array.dtype}"
    return arrays


def check(op_type, attrs, inputs, build, outputs=1, rtol=1e-4, atol_scale=1e-5, compare=None):
    """Run both sides and compare outputs (values within rtol plus atol relative to the range)."""
    expected = run_openvino(build, inputs)[:outputs]
    actual = run_ours(op_type, attrs, inputs, outputs)
    assert len(actual) == len(expected)
    for i, (got, want) in enumerate(zip(actual, expected)):
        assert got.shape == want.shape, f"output {i}: shape {got.shape}, OpenVINO {want.shape}"
        if compare is not None and compare[i] == "exact":
            np.testing.assert_array_equal(got, want.astype(got.dtype), err_msg=f"output {i}")
            continue
        scale = float(np.max(np.abs(want))) if want.size else 1.0
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol_scale * max(scale, 1.0),
                                   err_msg=f"output {i}")
    return actual


def rng(case: int) -> np.random.Generator:
    return np.random.default_rng(RNG_SEED + case)


def randn(r, *shape):
    return r.standard_normal(shape).astype(np.float32)


# -- convolutions ------------------------------------------------------------------------

def _conv_case(case):
    """A random 1-D/2-D/3-D convolution configuration."""
    r = rng(case)
    rank = (2, 2, 2, 1, 3)[case % 5]
    kernel = tuple(int(v) for v in r.integers(1, 4, rank))
    strides = tuple(int(v) for v in r.integers(1, 3, rank))
    dilations = tuple(int(v) for v in r.integers(1, 3, rank))
    pads_begin = tuple(int(v) for v in r.integers(0, 3, rank))
    pads_end = tuple(int(v) for v in r.integers(0, 3, rank))
    auto_pad = ("explicit", "same_upper", "same_lower", "valid", "explicit")[case % 5 if case % 3 else 0]
    sizes = tuple(int(v) for v in r.integers(5, 12 if rank < 3 else 7, rank))
    return r, rank, kernel, strides, dilations, pads_begin, pads_end, auto_pad, sizes


@pytest.mark.parametrize("case", range(10))
def test_convolution(case):
    r, rank, kernel, strides, dilations, pads_begin, pads_end, auto_pad, sizes = _conv_case(case)
    c_in, c_out = int(r.integers(1, 6)), int(r.integers(1, 6))
    x, w = randn(r, 2, c_in, *sizes), randn(r, c_out, c_in, *kernel)
    attrs = dict(strides=strides, dilations=dilations, pads_begin=pads_begin, pads_end=pads_end, auto_pad=auto_pad)
    check("Convolution", attrs, [Data(x), w],
          lambda a, b: opset1.convolution(a, b, strides, pads_begin, pads_end, dilations, auto_pad))


@pytest.mark.parametrize("case", range(10))
def test_group_convolution(case):
    r, rank, kernel, strides, dilations, pads_begin, pads_end, auto_pad, sizes = _conv_case(100 + case)
    groups = int(r.integers(2, 5))
    depthwise = case % 2 == 0
    c_in_g = 1 if depthwise else int(r.integers(2, 4))
    c_out_g = 1 if case % 4 == 0 else int(r.integers(1, 4))
    x, w = randn(r, 1, groups * c_in_g, *sizes), randn(r, groups, c_out_g, c_in_g, *kernel)
    attrs = dict(strides=strides, dilations=dilations, pads_begin=pads_begin, pads_end=pads_end, auto_pad=auto_pad)
    check("GroupConvolution", attrs, [Data(x), w],
          lambda a, b: opset1.group_convolution(a, b, strides, pads_begin, pads_end, dilations, auto_pad))


@pytest.mark.parametrize("case", range(12))
def test_convolution_backprop_data(case):
    r, rank, kernel, strides, dilations, pads_begin, pads_end, auto_pad, sizes = _conv_case(200 + case)
    grouped = case % 2 == 1
    groups = int(r.integers(2, 4)) if grouped else 1
    c_in_g, c_out_g = int(r.integers(1, 4)), int(r.integers(1, 4))
    output_padding = tuple(int(r.integers(0, min(s, d))) if max(s, d) > 1 else 0 for s, d in zip(strides, dilations))
    x = randn(r, 1, groups * c_in_g, *sizes)
    w = randn(r, groups, c_in_g, c_out_g, *kernel) if grouped else randn(r, c_in_g, c_out_g, *kernel)
    attrs = dict(strides=strides, dilations=dilations, pads_begin=pads_begin, pads_end=pads_end,
                 auto_pad=auto_pad, output_padding=output_padding)
    inputs = [Data(x), w]
    if case % 3 == 2:  # with output_shape: pads come from it under same_*
        natural = [s * (n - 1) + d * (k - 1) + 1 for n, k, s, d in zip(sizes, kernel, strides, dilations)]
        inputs.append(np.array([n - int(r.integers(0, 3)) for n in natural], np.int64))
        if grouped and auto_pad == "explicit":
            # OpenVINO's CPU plugin ignores pads_begin here for the grouped op only (the ungrouped
            # op and the shape rules honour it); gpu_int8 treats both alike
            auto_pad = attrs["auto_pad"] = "same_upper"
    op_type = "GroupConvolutionBackpropData" if grouped else "ConvolutionBackpropData"
    factory = opset1.group_convolution_backprop_data if grouped else opset1.convolution_backprop_data

    def build(a, b, shape=None):
        return factory(a, b, strides, shape, pads_begin, pads_end, dilations, auto_pad, output_padding)

    check(op_type, attrs, inputs, build)


# -- matmul ---------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ((3, 4), (4, 5), False, False),
    ((4, 3), (4, 5), True, False),
    ((3, 4), (5, 4), False, True),
    ((2, 1, 3, 4), (5, 4, 6), False, False),
    ((4,), (4, 5), False, False),
    ((3, 4), (4,), False, False),
    ((4,), (4,), False, False),
    ((2, 4), (3, 1, 2, 5), True, False),
    ((6, 2, 4, 3), (4,), True, True),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    a_shape, b_shape, ta, tb = shapes
    r = rng(300)
    a, b = randn(r, *a_shape), randn(r, *b_shape)
    check("MatMul", dict(transpose_a=ta, transpose_b=tb), [Data(a), Data(b)],
          lambda x, y: opset1.matmul(x, y, ta, tb))


# -- pooling --------------------------------------------------------------------------------

def _pool_case(case):
    r = rng(400 + case)
    rank = (2, 2, 2, 1, 3)[case % 5]
    kernel = tuple(int(v) for v in r.integers(1, 4, rank))
    strides = tuple(int(v) for v in r.integers(1, 3, rank))
    dilations = tuple(int(v) for v in r.integers(1, 3, rank))
    pads_begin = tuple(int(r.integers(0, k)) for k in kernel)  # OpenVINO wants pads smaller than the kernel
    pads_end = tuple(int(r.integers(0, k)) for k in kernel)
    auto_pad = ("explicit", "explicit", "same_upper", "same_lower", "valid")[case % 5 if case % 2 else 0]
    rounding = ("floor", "ceil")[case % 2] if case < 8 else "ceil_torch"
    sizes = tuple(int(v) for v in r.integers(4, 10 if rank < 3 else 6, rank))
    x = randn(r, 2, 3, *sizes)
    return x, kernel, strides, dilations, pads_begin, pads_end, auto_pad, rounding


@pytest.mark.parametrize("case", range(10))
def test_max_pool_v8(case):
    x, kernel, strides, dilations, pads_begin, pads_end, auto_pad, rounding = _pool_case(case)
    axis = (0, 2, 0, 1, 0)[case % 5]
    index_type = ("i64", "i32")[case % 2]
    attrs = dict(kernel=kernel, strides=strides, dilations=dilations, pads_begin=pads_begin, pads_end=pads_end,
                 auto_pad=auto_pad, rounding_type=rounding, index_element_type=index_type, axis=axis, opset=8)
    factory = opset14.max_pool if rounding == "ceil_torch" else opset8.max_pool
    values, indices = check("MaxPool", attrs, [Data(x)], lambda a: factory(
        a, strides, dilations, pads_begin, pads_end, kernel, rounding, auto_pad, index_type, axis),
        outputs=2, compare=("close", "exact"))
    assert indices.dtype == np.dtype(index_type.replace("i", "int"))


@pytest.mark.parametrize("case", range(0, 8, 3))
def test_max_pool_v1(case):
    x, kernel, strides, _, pads_begin, pads_end, auto_pad, rounding = _pool_case(case)
    attrs = dict(kernel=kernel, strides=strides, pads_begin=pads_begin, pads_end=pads_end,
                 auto_pad=auto_pad, rounding_type=rounding, opset=1)
    check("MaxPool", attrs, [Data(x)], lambda a: opset1.max_pool(
        a, strides, pads_begin, pads_end, kernel, rounding, auto_pad))


@pytest.mark.parametrize("case", range(10))
def test_avg_pool(case):
    x, kernel, strides, _, pads_begin, pads_end, auto_pad, rounding = _pool_case(case)
    exclude = case % 3 != 0
    attrs = {"kernel": kernel, "strides": strides, "pads_begin": pads_begin, "pads_end": pads_end,
             "auto_pad": auto_pad, "rounding_type": rounding, "exclude-pad": exclude}
    check("AvgPool", attrs, [Data(x)], lambda a: opset14.avg_pool(
        a, strides, pads_begin, pads_end, kernel, exclude, rounding, auto_pad))


@pytest.mark.parametrize("sizes", [((7, 9), (3, 4)), ((5, 5), (5, 2)), ((6,), (4,)), ((4, 5, 7), (2, 3, 3))], ids=str)
def test_adaptive_avg_pool(sizes):
    in_sizes, out_sizes = sizes
    x = randn(rng(500), 2, 3, *in_sizes)
    shape = np.array(out_sizes, np.int64)
    check("AdaptiveAvgPool", {}, [Data(x), shape], lambda a, s: opset8.adaptive_avg_pool(a, s))


# -- reductions and normalizations ------------------------------------------------------------

REDUCTIONS = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2"]


@pytest.mark.parametrize("op_type", REDUCTIONS)
@pytest.mark.parametrize("axes,keep", [([1], True), ([0, -1], False), ([2, 3, 1], False), ([-2], True)], ids=str)
def test_reductions(op_type, axes, keep):
    x = randn(rng(600), 2, 3, 4, 5)
    if op_type == "ReduceProd":
        x = (1 + 0.2 * x).astype(np.float32)  # keep products of ~O(1)
    factory = {
        "ReduceMean": opset1.reduce_mean, "ReduceSum": opset1.reduce_sum, "ReduceMax": opset1.reduce_max,
        "ReduceMin": opset1.reduce_min, "ReduceProd": opset1.reduce_prod, "ReduceL1": opset4.reduce_l1,
        "ReduceL2": opset4.reduce_l2}[op_type]
    check(op_type, dict(keep_dims=keep), [Data(x), np.array(axes, np.int64)], lambda a, b: factory(a, b, keep))


@pytest.mark.parametrize("axis", [1, -1, 0, 2])
def test_softmax_and_log_softmax(axis):
    x = (3 * randn(rng(700), 2, 3, 4, 5)).astype(np.float32)
    check("SoftMax", dict(axis=axis, opset=8), [Data(x)], lambda a: opset8.softmax(a, axis))
    check("Softmax", dict(axis=axis), [Data(x)], lambda a: opset8.softmax(a, axis))
    check("LogSoftmax", dict(axis=axis), [Data(x)], lambda a: opset5.log_softmax(a, axis))


@pytest.mark.parametrize("rank", [2, 4, 5])
def test_batch_norm_inference(rank):
    r = rng(800 + rank)
    x = randn(r, 2, 3, *(4,) * (rank - 2))
    gamma, beta, mean = randn(r, 3), randn(r, 3), randn(r, 3)
    variance = np.abs(randn(r, 3)) + 0.1
    check("BatchNormInference", dict(epsilon=1e-3, opset=5), [Data(x), gamma, beta, mean, variance],
          lambda *a: opset5.batch_norm_inference(*a, 1e-3))
    check("BatchNormInference", dict(epsilon=1e-3, opset=1), [gamma, beta, Data(x), mean, variance],
          lambda g, b, d, m, v: opset1.batch_norm_inference(d, g, b, m, v, 1e-3))


@pytest.mark.parametrize("axes,size", [([1], 5), ([1], 4), ([2, 3], 3), ([2, 3], 4)], ids=str)
def test_lrn(axes, size):
    # OpenVINO's CPU plugin supports across-channel ([1]) and across-spatial ([2, 3]) windows only,
    # and computes as if bias were 1 whatever the attribute says, so the oracle runs with bias 1
    x = randn(rng(900), 2, 7, 5, 6)
    check("LRN", dict(alpha=0.5, beta=0.75, bias=1.0, size=size), [Data(x), np.array(axes, np.int64)],
          lambda a, b: opset1.lrn(a, b, 0.5, 0.75, 1.0, size))


@pytest.mark.parametrize("axes,normalize,mode", [([2, 3], True, "inside_sqrt"), ([1, 2, 3], True, "outside_sqrt"),
                                                 ([-1], False, "inside_sqrt"), ([1], True, "outside_sqrt")], ids=str)
def test_mvn_v6(axes, normalize, mode):
    x = (randn(rng(1000), 2, 3, 4, 5) * 2 + 1).astype(np.float32)
    check("MVN", dict(normalize_variance=normalize, eps=1e-2, eps_mode=mode, opset=6),
          [Data(x), np.array(axes, np.int64)], lambda a, b: opset6.mvn(a, b, normalize, 1e-2, mode))


@pytest.mark.parametrize("across,normalize", [(True, True), (False, True), (False, False)])
def test_mvn_v0(across, normalize):
    x = (randn(rng(1100), 2, 3, 4, 5) * 2 + 1).astype(np.float32)
    check("MVN", dict(across_channels=across, normalize_variance=normalize, eps=1e-2, opset=2),
          [Data(x)], lambda a: opset2.mvn(a, across, normalize, 1e-2))


@pytest.mark.parametrize("axes,mode", [([1], "add"), ([2, 3], "max"), ([1, 2, 3], "add"), ([], "max")], ids=str)
def test_normalize_l2(axes, mode):
    # the CPU plugin computes eps_mode max as add, so max runs with an eps too small to matter
    x = randn(rng(1200), 2, 3, 4, 5)
    x[0, 0, 0, :2] = 0
    eps = 1e-12 if mode == "max" else 1e-1
    check("NormalizeL2", dict(eps=eps, eps_mode=mode), [Data(x), np.array(axes, np.int64)],
          lambda a, b: opset1.normalize_l2(a, b, eps, mode))


# -- attention ----------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["plain", "causal", "bool_mask", "float_mask", "scale", "broadcast"])
def test_scaled_dot_product_attention(variant):
    r = rng(1300)
    q, k, v = randn(r, 2, 3, 5, 8), randn(r, 2, 3, 7, 8), randn(r, 2, 3, 7, 4)
    inputs, causal = [Data(q), Data(k), Data(v)], variant == "causal"
    if variant == "bool_mask":
        mask = r.random((5, 7)) > 0.3
        mask[:, 0] = True  # no fully masked row (softmax of all -inf)
        inputs.append(mask)
    elif variant == "float_mask":
        inputs.append(randn(r, 1, 3, 5, 7))
    elif variant == "scale":
        inputs += [np.zeros((5, 7), np.float32), np.float32(0.3)]
    elif variant == "broadcast":
        inputs = [Data(randn(r, 2, 1, 5, 8)), Data(k[:1]), Data(v[:1])]
    check("ScaledDotProductAttention", dict(causal=causal), inputs,
          lambda *a: opset13.scaled_dot_product_attention(*a, causal=causal))


# -- interpolate ----------------------------------------------------------------------------------

TRANSFORMS = ["half_pixel", "pytorch_half_pixel", "asymmetric", "tf_half_pixel_for_nn", "align_corners"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple"]


def _interpolate_case(case):
    r = rng(1400 + case)
    mode = ("nearest", "linear_onnx", "cubic", "linear", "nearest", "linear_onnx")[case % 6]
    transform = TRANSFORMS[case % 5]
    nearest = NEAREST[(case // 2) % 5]
    by_scales = case % 4 < 2
    in_sizes = [int(v) for v in r.integers(3, 9, 2)]
    factors = [float(v) for v in r.choice([0.5, 0.75, 1.5, 2.0, 1.3333, 2.5, 0.6], 2)]
    pads = case % 7 == 3
    pads_begin, pads_end = ([0, 0, 1, 0], [0, 0, 0, 2]) if pads else ([0, 0, 0, 0], [0, 0, 0, 0])
    padded = [n + b + e for n, b, e in zip(in_sizes, pads_begin[2:], pads_end[2:])]
    sizes = [max(1, int(np.floor(n * f + 1e-5))) for n, f in zip(padded, factors)]
    # OpenVINO's CPU plugin ignores antialias (the reference widens the triangle filter when downscaling,
    # as gpu_int8 does), so the oracle comparison runs without it
    antialias = False
    x = randn(r, 1, 2, *in_sizes)
    return mode, transform, nearest, by_scales, factors, sizes, pads_begin, pads_end, antialias, x


@pytest.mark.parametrize("case", range(30))
def test_interpolate_v11(case):
    mode, transform, nearest, by_scales, factors, sizes, pads_begin, pads_end, antialias, x = _interpolate_case(case)
    calc = "scales" if by_scales else "sizes"
    target = np.array(factors, np.float32) if by_scales else np.array(sizes, np.int64)
    attrs = dict(mode=mode, shape_calculation_mode=calc, coordinate_transformation_mode=transform,
                 nearest_mode=nearest, antialias=antialias, pads_begin=pads_begin, pads_end=pads_end,
                 cube_coeff=-0.6, opset=11)
    axes = np.array([2, 3], np.int64) if case % 3 else np.array([3, 2], np.int64)  # order pairs with target
    if case % 3 == 0:
        target = target[::-1].copy()
    check("Interpolate", attrs, [Data(x), target, axes], lambda a, t, ax: opset11.interpolate(
        a, t, mode, calc, pads_begin, pads_end, transform, nearest, antialias, -0.6, ax), rtol=1e-4, atol_scale=1e-4)


@pytest.mark.parametrize("case", range(0, 30, 3))
def test_interpolate_v4(case):
    mode, transform, nearest, by_scales, factors, sizes, pads_begin, pads_end, antialias, x = _interpolate_case(case)
    calc = "scales" if by_scales else "sizes"
    attrs = dict(mode=mode, shape_calculation_mode=calc, coordinate_transformation_mode=transform,
                 nearest_mode=nearest, antialias=antialias, pads_begin=pads_begin, pads_end=pads_end, opset=4)
    inputs = [Data(x), np.array(sizes, np.int64), np.array(factors, np.float32), np.array([2, 3], np.int64)]
    check("Interpolate", attrs, inputs, lambda a, s, f, ax: opset10.interpolate(
        a, s, f, mode, calc, pads_begin, pads_end, transform, nearest, antialias, -0.75, ax),
        rtol=1e-4, atol_scale=1e-4)


@pytest.mark.parametrize("mode,align,axes,sizes", [
    ("nearest", False, [2, 3], [9, 4]), ("linear", False, [2, 3], [9, 11]), ("linear", True, [2, 3], [3, 11]),
    ("cubic", False, [3], [13]), ("linear", False, [3], [4]), ("nearest", True, [2], [2])], ids=str)
def test_interpolate_v1(mode, align, axes, sizes):
    x = randn(rng(1500), 1, 2, 5, 7)
    attrs = dict(axes=axes, mode=mode, align_corners=align, antialias=False, pads_begin=[0], pads_end=[0])
    check("Interpolate", dict(attrs, opset=1), [Data(x), np.array(sizes, np.int64)],
          lambda a, s: opset1.interpolate(a, s, attrs), rtol=1e-4, atol_scale=1e-4)


@pytest.mark.parametrize("mode", ["nearest", "linear_onnx", "cubic"])
def test_interpolate_u8_data_rounds(mode):
    x = rng(1550).integers(0, 256, (1, 2, 5, 6)).astype(np.uint8)
    check("Interpolate", dict(mode=mode, shape_calculation_mode="sizes"), [Data(x), np.array([9, 4]), np.array([2, 3])],
          lambda a, s, ax: opset11.interpolate(a, s, mode, "sizes", axes=ax), compare=("exact",))


# -- data movement ------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("pads", [([0, 1, 2, 0], [0, 0, 1, 3]), ([0, -1, 2, 1], [0, 1, -2, 0]),
                                  ([1, 0, 0, -2], [0, 0, 3, 2])], ids=str)
def test_pad(mode, pads):
    x = randn(rng(1600), 2, 3, 5, 6)
    begin, end = (np.array(p, np.int64) for p in pads)
    inputs = [Data(x), begin, end] + ([np.float32(0.5)] if mode == "constant" else [])
    check("Pad", dict(pad_mode=mode), inputs, lambda *a: opset12.pad(*a[:3], mode, *a[3:]),
          compare=("exact",))


@pytest.mark.parametrize("mode", ["blocks_first", "depth_first"])
@pytest.mark.parametrize("shape,block", [((2, 8, 3, 5), 2), ((1, 27, 2, 2, 3), 3), ((1, 8, 4), 2)], ids=str)
def test_depth_to_space_and_back(mode, shape, block):
    x = randn(rng(1700), *shape)
    (y,) = check("DepthToSpace", dict(block_size=block, mode=mode), [Data(x)],
                 lambda a: opset1.depth_to_space(a, mode, block), compare=("exact",))
    check("SpaceToDepth", dict(block_size=block, mode=mode), [Data(y)],
          lambda a: opset1.space_to_depth(a, mode, block), compare=("exact",))


@pytest.mark.parametrize("axis,group", [(1, 2), (1, 3), (-1, 4), (0, 2)], ids=str)
def test_shuffle_channels(axis, group):
    x = randn(rng(1800), 4, 6, 3, 8)
    check("ShuffleChannels", dict(axis=axis, group=group), [Data(x)],
          lambda a: opset13.shuffle_channels(a, axis, group), compare=("exact",))


@pytest.mark.parametrize("mode", ["max", "min"])
@pytest.mark.parametrize("sort", ["value", "index"])
@pytest.mark.parametrize("axis,k,index_type", [(1, 3, "i32"), (-1, 1, "i64"), (0, 2, "i32"), (2, 5, "i64")],
                         ids=str)
def test_top_k(mode, sort, axis, k, index_type):
    x = randn(rng(1900), 3, 6, 5)
    attrs = dict(axis=axis, mode=mode, sort=sort, index_element_type=index_type, stable=True)
    check("TopK", attrs, [Data(x), np.int64(k)],
          lambda a, kk: opset11.topk(a, kk, axis, mode, sort, index_type, True), outputs=2,
          compare=("exact", "exact"))


@pytest.mark.parametrize("case", [0, 1, 3, 4, 5])
def test_convolution_per_tap_matmuls(case, monkeypatch):
    """Large stride-1 convolutions take the per-tap matmul route; force it on small cases."""
    from gpu_int8.ops import conv_math
    monkeypatch.setattr(conv_math, "IM2COL_LIMIT_BYTES", 0)
    r, rank, kernel, _, dilations, pads_begin, pads_end, auto_pad, sizes = _conv_case(case)
    strides = (1,) * rank
    groups = 1 + case % 2
    x, w = randn(r, 2, groups * 3, *sizes), randn(r, groups, 4, 3, *kernel)
    attrs = dict(strides=strides, dilations=dilations, pads_begin=pads_begin, pads_end=pads_end, auto_pad=auto_pad)
    check("GroupConvolution", attrs, [Data(x), w],
          lambda a, b: opset1.group_convolution(a, b, strides, pads_begin, pads_end, dilations, auto_pad))


# -- shape errors name the node and the problem ---------------------------------------------------

@pytest.mark.parametrize("op_type,shapes,attrs,message", [
    ("Convolution", [(1, 3, 8, 8), (4, 2, 3, 3)], {}, "channels"),
    ("MatMul", [(2, 3), (4, 5)], {}, "inner dimensions"),
    ("MaxPool", [(1, 3, 2, 2)], {"kernel": [3, 3]}, "exceeds"),
    ("GroupConvolution", [(1, 4, 8, 8), (2, 2, 2, 3)], {}, "ranks"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_shape_errors_name_the_node(op_type, shapes, attrs, message):
    from gpu_int8.errors import ModelError
    graph = Graph("bad", source="model.xml")
    names = []
    for i, shape in enumerate(shapes):
        graph.add_input(f"in{i}", shape, np.float32)
        names.append(f"in{i}")
    graph.add_node(op_type, names, 1, attrs, name="the_node")
    graph.outputs = ["the_node"]
    with pytest.raises(ModelError, match=message) as info:
        infer_shapes(graph)
    assert info.value.node == "the_node" and info.value.file == "model.xml"
