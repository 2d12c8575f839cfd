"""The int8 reference executor: exact integer accumulation and the epilogue, checked
against brute-force int64 arithmetic and hand-computed requantization."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from gpu_int8.graph import Node
from gpu_int8.ops import get_op
from gpu_int8.reference.int8_executor import run_step
from gpu_int8.schedule import Step, Tensor
from gpu_int8.schedule.epilogue import ACTIVATIONS, run_epilogue

RNG = np.random.default_rng(11)
F32 = np.float32


def _requant(acc, m, b, lo, hi, axis=1):
    """q = clamp(rint(float32(acc) * m[c] + b[c])) in float32, written out independently."""
    shape = [1] * acc.ndim
    shape[axis] = -1
    y = acc.astype(F32) * m.astype(F32).reshape(shape)
    y = y + b.astype(F32).reshape(shape)
    return np.clip(np.rint(y), lo, hi)


def _conv_int64(x, w, stride, pads, pad_value, groups):
    """Direct int64 convolution: x [N, C, H, W], w [O, C/groups, k, k]."""
    xp = np.pad(x.astype(np.int64), [(0, 0), (0, 0), (pads, pads), (pads, pads)], constant_values=pad_value)
    k = w.shape[-1]
    win = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]  # N C OH OW k k
    og = w.shape[0] // groups
    out = []
    for g in range(groups):
        cin = w.shape[1]
        part = win[:, g * cin:(g + 1) * cin]
        out.append(np.einsum("nchwij,ocij->nohw", part, w[g * og:(g + 1) * og].astype(np.int64)))
    return np.concatenate(out, axis=1)


@pytest.mark.parametrize("channels, groups, stride", [(512, 1, 2), (24, 24, 1), (16, 4, 1)])
def test_convolution_accumulates_exactly_then_requantizes(channels, groups, stride):
    out_channels = 32 if groups == 1 else channels
    x = RNG.integers(0, 256, (1, channels, 9, 9)).astype(np.uint8)
    w = RNG.integers(-127, 128, (out_channels, channels // groups, 3, 3)).astype(np.int8)
    comp = RNG.integers(-2**20, 2**20, out_channels).astype(np.int32)
    m = RNG.uniform(1e-5, 1e-3, out_channels).astype(F32)
    b = RNG.uniform(-50, 50, out_channels).astype(F32)
    oh = (9 + 2 - 3) // stride + 1
    step = Step("conv", "conv", ["x"], ["y"], {
        "strides": [stride, stride], "dilations": [1, 1], "pads_begin": [1, 1], "pads_end": [1, 1],
        "pad_value": 7, "group": groups, "out_sizes": [oh, oh]},
        {"w": w.reshape(groups, out_channels // groups, channels // groups, 3, 3), "comp": comp, "m": m, "b": b},
        [["affine", "m", "b"], ["round", 0, 255]], 1)
    (y,) = run_step(step, [x], [Tensor("y", (1, out_channels, oh, oh), "u8")])
    acc = _conv_int64(x, w, stride, 1, 7, groups) + comp.reshape(1, -1, 1, 1)
    assert channels * 9 * 255 * 127 > 2**24 or groups > 1, "large K: float32 sums would not be exact"
    np.testing.assert_array_equal(y, _requant(acc, m, b, 0, 255))


def test_transposed_convolution_accumulates_exactly():
    x = RNG.integers(-128, 128, (1, 6, 5, 5)).astype(np.int8)
    w = RNG.integers(-127, 128, (6, 4, 2, 2)).astype(np.int8)
    step = Step("up", "deconv", ["x"], ["y"], {"strides": [2, 2], "dilations": [1, 1], "pads_begin": [0, 0],
                                               "pads_end": [0, 0], "output_padding": [0, 0], "group": 1},
                {"w": w.reshape(1, 6, 4, 2, 2)}, [], 1)
    (y,) = run_step(step, [x], [Tensor("y", (1, 4, 10, 10), "f32")])
    ref = np.zeros((1, 4, 10, 10), np.int64)
    for i in range(5):
        for j in range(5):
            ref[0, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2] += np.einsum("c,cokl->okl", x[0, :, i, j].astype(np.int64),
                                                                     w.astype(np.int64))
    np.testing.assert_array_equal(y, ref.astype(F32))


def test_matmul_with_weights_and_offset():
    a = RNG.integers(0, 256, (1, 7, 300)).astype(np.uint8)
    w = RNG.integers(-127, 128, (10, 300)).astype(np.int8)
    comp = RNG.integers(-1000, 1000, 10).astype(np.int32)
    step = Step("fc", "matmul", ["a"], ["y"], {"transpose_a": False, "transpose_b": True}, {"w": w, "comp": comp},
                [], 2)
    (y,) = run_step(step, [a], [Tensor("y", (1, 7, 10), "f32")])
    np.testing.assert_array_equal(y, (a.astype(np.int64) @ w.T.astype(np.int64) + comp).astype(F32))


def test_average_pooling_divides_the_exact_sum():
    x = RNG.integers(0, 256, (1, 3, 7, 7)).astype(np.uint8)
    attrs = {"kernel": [3, 3], "strides": [2, 2], "pads_begin": [1, 1], "pads_end": [1, 1], "exclude_pad": True,
             "pad_value": 0, "out_sizes": [4, 4]}
    step = Step("pool", "avg_pool", ["x"], ["y"], attrs, {}, [["round", 0, 255]], 1)
    (y,) = run_step(step, [x], [Tensor("y", (1, 3, 4, 4), "u8")])
    xp = np.pad(x.astype(np.int64), [(0, 0), (0, 0), (1, 1), (1, 1)])
    ones = np.pad(np.ones((7, 7), np.int64), 1)
    sums = sliding_window_view(xp, (3, 3), axis=(2, 3))[:, :, ::2, ::2].sum(axis=(-1, -2))
    counts = sliding_window_view(ones, (3, 3))[::2, ::2].sum(axis=(-1, -2))
    np.testing.assert_array_equal(y, np.round(sums / counts))  # round half to even of the exact quotient


def test_round_is_half_to_even_then_clamped():
    y = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, 300.0, -300.0], F32)
    out = run_epilogue(y, [["round", -128, 127]], {}, [], None)
    np.testing.assert_array_equal(out, [0, 2, 2, 0, -2, -2, 126, 127, -128])


def test_residual_and_multiply_operands_are_read_raw():
    y = np.array([[10.0, 20.0]], F32)
    r = np.array([[3, -4]], np.int8)
    consts = {"m": np.array([0.5, 0.25], F32), "b": np.array([1.0, 2.0], F32)}
    add = run_epilogue(y, [["add", 1, "m", "b"]], consts, [None, r], 1)
    mul = run_epilogue(y, [["mul", 1, "m", "b"]], consts, [None, r], 1)
    np.testing.assert_array_equal(add, [[10 + 3 * 0.5 + 1, 20 - 4 * 0.25 + 2]])
    np.testing.assert_array_equal(mul, [[10 * (3 * 0.5 + 1), 20 * (-4 * 0.25 + 2)]])


@pytest.mark.parametrize("kind, params, op_type, attrs, extra", [
    ("relu", {}, "Relu", {}, []), ("hswish", {}, "HSwish", {}, []), ("hsigmoid", {}, "HSigmoid", {}, []),
    ("sigmoid", {}, "Sigmoid", {}, []), ("tanh", {}, "Tanh", {}, []), ("mish", {}, "Mish", {}, []),
    ("softplus", {}, "SoftPlus", {}, []), ("swish", {"beta": 1.3}, "Swish", {}, [np.float32(1.3)]),
    ("hard_sigmoid", {"alpha": 0.2, "beta": 0.5}, "HardSigmoid", {}, [np.float32(0.2), np.float32(0.5)]),
    ("clamp", {"min": -1.0, "max": 2.0}, "Clamp", {"min": -1.0, "max": 2.0}, []),
    ("elu", {"alpha": 0.7}, "Elu", {"alpha": 0.7}, []),
    ("gelu_erf", {}, "Gelu", {}, []), ("gelu_tanh", {}, "Gelu", {"approximation_mode": "TANH"}, []),
])
def test_epilogue_activations_match_the_op_definitions(kind, params, op_type, attrs, extra):
    y = np.linspace(-8, 8, 1001, dtype=F32)
    (expected,) = get_op(op_type).run(Node(op_type, "n", [], ["y"], attrs), y, *extra)
    actual = ACTIVATIONS[kind](y, params)
    assert actual.dtype == F32
    np.testing.assert_allclose(actual, expected, rtol=2e-6, atol=2e-6)


def test_per_channel_prelu_slope():
    y = np.array([[[-1.0, 2.0]], [[-1.0, 2.0]]], F32).reshape(1, 2, 1, 2)
    out = run_epilogue(y, [["act", "prelu", {"slope": "s"}]], {"s": np.array([0.1, 0.5], F32)}, [], 1)
    np.testing.assert_allclose(out.reshape(-1), [-0.1, 2.0, -0.5, 2.0])
