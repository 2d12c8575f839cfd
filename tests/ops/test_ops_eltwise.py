"""Elementwise and activation ops against OpenVINO's own ops (compiled on CPU, f32).

OpenVINO defines these semantics, so it is the oracle: each case builds a
tiny OpenVINO model of the same op, runs both on random data with random
(broadcastable) shapes, and compares.
"""

from __future__ import annotations

import numpy as np
import pytest

ov = pytest.importorskip("openvino")
ops = pytest.importorskip("openvino.opset13")

from gpu_int8.graph import Graph, Node, infer_shapes  # noqa: E402
from gpu_int8.ops import get_op  # noqa: E402
from gpu_int8.ops.element_types import round_to_bf16  # noqa: E402

CORE = ov.Core()


def run_op(op_type: str, *inputs, **attrs):
    """Run one gpu_int8 op on arrays (None = absent optional input); all outputs."""
    node = Node(op_type, op_type.lower(), [f"in{i}" if x is not None else "" for i, x in enumerate(inputs)],
                ["out"], attrs)
    return get_op(op_type).run(node, *inputs)


def ov_run(build, *arrays):
    """Run ``build(*parameters)`` (one OpenVINO output node) in OpenVINO on ``arrays``."""
    params = [ops.parameter(list(a.shape), a.dtype) for a in arrays]
    model = ov.Model([build(*params)], params)
    compiled = CORE.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return compiled(list(arrays))[0]


def ov_fold(build, *arrays):
    """OpenVINO's constant folding (its reference implementation) of build(*constants)."""
    out = build(*[ops.constant(a) for a in arrays])
    anchor = ops.parameter([1], np.float32)
    model = ov.Model([out, ops.add(anchor, anchor)], [anchor])
    return CORE.compile_model(model, "CPU")(np.zeros(1, np.float32))[0]


def random_shapes(rng, count: int = 2) -> list[tuple]:
    """Shapes of rank 0..4 that NumPy-broadcast together, with 1s and rank gaps."""
    rank = int(rng.integers(0, 5))
    full = [int(d) for d in rng.integers(1, 6, size=rank)]
    shapes = []
    for _ in range(count):
        keep = int(rng.integers(0, rank + 1))
        dims = [1 if rng.random() < 0.3 else d for d in full[rank - keep:]]
        shapes.append(tuple(dims))
    return shapes


def assert_close(ours, theirs, rtol=1e-5, atol=1e-6):
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


# --- unary ---------------------------------------------------------------------

UNARY = [
    # op type, attrs, OpenVINO builder, input range
    ("Abs", {}, ops.abs, (-5, 5)),
    ("Negative", {}, ops.negative, (-5, 5)),
    ("Exp", {}, ops.exp, (-10, 10)),
    ("Log", {}, ops.log, (1e-3, 50)),
    ("Sqrt", {}, ops.sqrt, (0, 50)),
    ("Sigmoid", {}, ops.sigmoid, (-30, 30)),
    ("Tanh", {}, ops.tanh, (-6, 6)),
    ("Erf", {}, ops.erf, (-4, 4)),
    ("Floor", {}, ops.floor, (-5, 5)),
    ("Ceiling", {}, ops.ceiling, (-5, 5)),
    ("Sign", {}, ops.sign, (-2, 2)),
    ("Sin", {}, ops.sin, (-6, 6)),
    ("Cos", {}, ops.cos, (-6, 6)),
    ("HSigmoid", {}, ops.hsigmoid, (-5, 5)),
    ("HSwish", {}, ops.hswish, (-5, 5)),
    ("Mish", {}, ops.mish, (-8, 8)),
    ("SoftPlus", {}, ops.softplus, (-30, 30)),
    ("SoftSign", {}, ops.softsign, (-5, 5)),
    ("Gelu", {"approximation_mode": "ERF"}, lambda x: ops.gelu(x, "erf"), (-5, 5)),
    ("Gelu", {"approximation_mode": "TANH"}, lambda x: ops.gelu(x, "tanh"), (-5, 5)),
    ("Elu", {"alpha": 0.7}, lambda x: ops.elu(x, 0.7), (-5, 5)),
    ("Clamp", {"min": -1.25, "max": 2.5}, lambda x: ops.clamp(x, -1.25, 2.5), (-5, 5)),
    ("Swish", {}, ops.swish, (-8, 8)),
    ("LogicalNot", {}, ops.logical_not, None),
]


@pytest.mark.parametrize("op_type,attrs,build,span", UNARY, ids=[f"{u[0]}-{u[1]}" for u in UNARY])
def test_unary_matches_openvino(op_type, attrs, build, span):
    rng = np.random.default_rng(len(op_type))
    for _ in range(3):
        (shape,) = random_shapes(rng, 1)
        if span is None:
            x = rng.random(shape) < 0.5
        else:
            x = rng.uniform(*span, size=shape).astype(np.float32)
            if span[0] < 0:
                x.reshape(-1)[:1] = 0.0
        (ours,) = run_op(op_type, np.asarray(x), **attrs)
        # OpenVINO's CPU kernels use polynomial approximations of exp/erf/tanh
        assert_close(ours, ov_run(build, np.asarray(x)), rtol=2e-5, atol=2e-6)


def test_unary_keeps_float16_and_handles_extremes():
    x = np.array([-1e4, -80, -1, 0, 1, 80, 1e4], np.float16)
    for op_type in ("Sigmoid", "SoftPlus", "Mish", "Exp", "Tanh"):
        with np.errstate(over="ignore"):  # e^1e4 is inf, as it should be
            (y,) = run_op(op_type, x)
            ref = run_op(op_type, x.astype(np.float32))[0].astype(np.float16)
        assert y.dtype == np.float16
        np.testing.assert_array_equal(y, ref)
    x = np.array([-1e30, -200, 200, 1e30], np.float32)
    with np.errstate(over="raise"):
        np.testing.assert_array_equal(run_op("Sigmoid", x)[0], [0, 0, 1, 1])
        np.testing.assert_allclose(run_op("SoftPlus", x)[0], [0, 0, 200, 1e30])


@pytest.mark.parametrize("mode", ["half_to_even", "half_away_from_zero"])
def test_round_matches_openvino_on_ties(mode):
    rng = np.random.default_rng(5)
    x = np.concatenate([np.arange(-6, 6.5, 0.5), rng.uniform(-9, 9, 40), [2.5000002, 8388607.5]]).astype(np.float32)
    (ours,) = run_op("Round", x, mode=mode)
    np.testing.assert_array_equal(ours, ov_run(lambda p: ops.round(p, mode), x))
    # the float just below 0.5: OpenVINO's reference (std::round) gives 0; its CPU kernel,
    # floor(|x| + 0.5), gives 1 -- gpu_int8 follows the reference
    near_half = np.array([0.49999997, -0.49999997], np.float32)
    np.testing.assert_array_equal(run_op("Round", near_half, mode=mode)[0],
                                  ov_fold(lambda c: ops.round(c, mode), near_half))


def test_integer_unary_ops_stay_integer():
    x = np.array([-7, -1, 0, 3, 100], np.int32)
    for op_type, build in (("Abs", ops.abs), ("Negative", ops.negative), ("Sign", ops.sign),
                           ("Floor", ops.floor), ("Ceiling", ops.ceiling)):
        (ours,) = run_op(op_type, x)
        assert_close(ours, ov_run(build, x))
    (ours,) = run_op("Clamp", x, min=-2.5, max=3.5)  # integer bounds round inward: [-2, 3]
    assert_close(ours, ov_run(lambda p: ops.clamp(p, -2.5, 3.5), x))
    np.testing.assert_array_equal(ours, [-2, -1, 0, 3, 3])
    np.testing.assert_array_equal(run_op("Round", x, mode="half_to_even")[0], x)
    np.testing.assert_array_equal(run_op("Sqrt", np.array([0, 2, 3, 15, 16], np.int32))[0], [0, 1, 2, 4, 4])


def test_swish_with_beta():
    rng = np.random.default_rng(1)
    x = rng.uniform(-6, 6, (2, 3, 5)).astype(np.float32)
    beta = np.array(0.6, np.float32)
    (ours,) = run_op("Swish", x, beta)
    assert_close(ours, ov_run(lambda p: ops.swish(p, ops.constant(beta)), x), rtol=2e-5, atol=2e-6)


def test_selu_and_hard_sigmoid_take_parameters_as_inputs():
    rng = np.random.default_rng(2)
    x = rng.uniform(-5, 5, (3, 4, 5)).astype(np.float32)
    alpha, lam = np.array([1.67], np.float32), np.array([1.05], np.float32)
    (ours,) = run_op("Selu", x, alpha, lam)
    assert_close(ours, ov_run(lambda p: ops.selu(p, ops.constant(alpha), ops.constant(lam)), x), rtol=2e-5)
    a, b = np.array(0.2, np.float32), np.array(0.5, np.float32)
    (ours,) = run_op("HardSigmoid", x, a, b)
    assert_close(ours, ov_run(lambda p: ops.hard_sigmoid(p, ops.constant(a), ops.constant(b)), x))


@pytest.mark.parametrize("x_shape,slope_shape", [
    ((2, 3, 4, 5), (3,)),      # per channel along axis 1
    ((2, 5, 4, 5), (5,)),      # channel count equals the last dim: still axis 1
    ((2, 3, 4, 5), (1,)),      # scalar-like
    ((2, 3, 4, 5), (4, 5)),    # NumPy broadcasting
    ((6,), (6,)),              # 1-D data: the channel axis is 0
    ((2, 3, 4), ()),
])
def test_prelu_slope_broadcast_matches_openvino(x_shape, slope_shape):
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, x_shape).astype(np.float32)
    slope = rng.uniform(-1, 1, slope_shape).astype(np.float32)
    (ours,) = run_op("PRelu", x, slope)
    assert_close(ours, ov_run(ops.prelu, x, slope))


# --- binary ----------------------------------------------------------------------

BINARY = [
    ("Add", {}, ops.add),
    ("Subtract", {}, ops.subtract),
    ("Multiply", {}, ops.multiply),
    ("Divide", {}, ops.divide),
    ("Power", {}, ops.power),
    ("Maximum", {}, ops.maximum),
    ("Minimum", {}, ops.minimum),
    ("SquaredDifference", {}, ops.squared_difference),
    ("FloorMod", {}, ops.floor_mod),
    ("Mod", {}, ops.mod),
    ("Equal", {}, ops.equal),
    ("NotEqual", {}, ops.not_equal),
    ("Less", {}, ops.less),
    ("LessEqual", {}, ops.less_equal),
    ("Greater", {}, ops.greater),
    ("GreaterEqual", {}, ops.greater_equal),
    ("LogicalAnd", {}, ops.logical_and),
    ("LogicalOr", {}, ops.logical_or),
    ("LogicalXor", {}, ops.logical_xor),
]


def _operands(op_type, rng, shape_a, shape_b):
    if op_type.startswith("Logical"):
        return rng.random(shape_a) < 0.5, rng.random(shape_b) < 0.5
    a = rng.uniform(-4, 4, shape_a).astype(np.float32)
    b = rng.uniform(-4, 4, shape_b).astype(np.float32)
    if op_type == "Power":
        a = np.abs(a) + 0.1
    if op_type in ("Divide", "FloorMod", "Mod"):
        b = np.where(np.abs(b) < 0.25, 1.5, b).astype(np.float32)
    if op_type in ("Equal", "NotEqual", "LessEqual", "GreaterEqual"):
        a, b = np.round(a), np.round(b)  # make equality happen
    return a, b


@pytest.mark.parametrize("op_type,attrs,build", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcast_matches_openvino(op_type, attrs, build):
    rng = np.random.default_rng(sum(map(ord, op_type)))
    for _ in range(4):
        shape_a, shape_b = random_shapes(rng, 2)
        a, b = _operands(op_type, rng, shape_a, shape_b)
        (ours,) = run_op(op_type, np.asarray(a), np.asarray(b), **attrs)
        assert_close(ours, ov_run(build, np.asarray(a), np.asarray(b)), rtol=1e-5, atol=1e-5)


def ov_divide(python_division):
    def build(a, b):
        node = ops.divide(a, b)
        node.set_attribute("m_pythondiv", python_division)
        return node
    return build


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_binary_ops_match_openvino_reference(dtype):
    rng = np.random.default_rng(9)
    a = rng.integers(-20, 20, (4, 6)).astype(dtype)
    b = rng.integers(-6, 6, (1, 6)).astype(dtype)
    b[b == 0] = 3
    e = rng.integers(-3, 4, (4, 6)).astype(dtype)
    cases = [("FloorMod", {}, ops.floor_mod, a, b), ("Mod", {}, ops.mod, a, b),
             ("Power", {}, ops.power, a, e), ("Maximum", {}, ops.maximum, a, b),
             ("SquaredDifference", {}, ops.squared_difference, a, b)]
    for python_division in (True, False):  # the CPU plugin ignores the flag; its constant folding does not
        cases.append(("Divide", {"m_pythondiv": python_division}, ov_divide(python_division), a, b))
    for op_type, attrs, build, x, y in cases:
        (ours,) = run_op(op_type, x, y, **attrs)
        assert_close(ours, ov_fold(build, x, y))
    np.testing.assert_array_equal(run_op("Divide", np.array([-7, 7], dtype), np.array([2, -2], dtype))[0], [-4, -4])
    np.testing.assert_array_equal(run_op("Divide", np.array([-7, 7], dtype), np.array([2, -2], dtype),
                                         m_pythondiv=False)[0], [-3, -3])


def test_auto_broadcast_none_wants_equal_shapes():
    a, b = np.ones((2, 3), np.float32), np.ones((1, 3), np.float32)
    assert run_op("Multiply", a, b)[0].shape == (2, 3)
    with pytest.raises(ValueError, match="equal shapes"):
        run_op("Multiply", a, b, auto_broadcast="none")
    with pytest.raises(ValueError):
        run_op("Add", a, np.ones((4,), np.float32))


def test_select_broadcasts_three_ways():
    rng = np.random.default_rng(4)
    for _ in range(4):
        s_cond, s_then, s_else = random_shapes(rng, 3)
        cond = rng.random(s_cond) < 0.5
        then = rng.normal(size=s_then).astype(np.float32)
        other = rng.normal(size=s_else).astype(np.float32)
        (ours,) = run_op("Select", np.asarray(cond), np.asarray(then), np.asarray(other))
        assert_close(ours, ov_run(ops.select, np.asarray(cond), np.asarray(then), np.asarray(other)))


# --- conversions -------------------------------------------------------------------

FLOATS = np.array([2.5, -2.5, 2.7, -2.7, 0.5, -0.4, 0, 127.9, 128.2, -128.6, 255.5, 300.2, -5, 65535.9,
                   1e6, -1e6], np.float32)


@pytest.mark.parametrize("dst", ["i8", "u8", "i16", "u16", "i32", "u32", "i64", "boolean", "f16", "f32"])
def test_convert_from_float_matches_openvino(dst):
    with np.errstate(over="ignore"):  # 1e6 is inf in f16
        (ours,) = run_op("Convert", FLOATS, destination_type=dst)
    theirs = ov_run(lambda p: ops.convert(p, dst), FLOATS)
    assert_close(ours, theirs, rtol=0, atol=0)


@pytest.mark.parametrize("src,dst", [("i32", "u8"), ("i32", "i8"), ("i32", "u16"), ("i8", "u8"), ("u8", "i8"),
                                     ("i8", "f32"), ("u8", "f16"), ("i64", "i32"), ("i32", "f32"),
                                     ("boolean", "f32"), ("i8", "boolean")])
def test_convert_between_types_matches_openvino(src, dst):
    from gpu_int8.ops.element_types import to_dtype
    values = np.array([-70000, -300, -129, -128, -5, 0, 1, 127, 128, 255, 256, 300, 70000])
    x = (values != 0) if src == "boolean" else values.astype(to_dtype(src))
    (ours,) = run_op("Convert", x, destination_type=dst)
    assert_close(ours, ov_run(lambda p: ops.convert(p, dst), x), rtol=0, atol=0)
    (like,) = run_op("ConvertLike", x, np.zeros(1, ours.dtype))
    assert_close(like, ours, rtol=0, atol=0)


def test_convert_accepts_numpy_dtypes_and_rounds_bf16():
    x = np.array([1.0, 1.00390625, 1.01171875, -3.14159], np.float32)
    np.testing.assert_array_equal(run_op("Convert", x, destination_type=np.dtype(np.int32))[0], [1, 1, 1, -3])
    (bf16,) = run_op("Convert", x, destination_type="bf16")
    theirs = ov_run(lambda p: ops.convert(ops.convert(p, "bf16"), "f32"), x)
    np.testing.assert_array_equal(bf16, theirs)
    np.testing.assert_array_equal(round_to_bf16(np.array([np.inf, -0.0], np.float32)), [np.inf, -0.0])


def test_weight_convert_is_not_folded():
    graph = Graph("weights")
    graph.add_input("x", (2, 4), np.float32)
    graph.add_const("w_i8", np.arange(-4, 4, dtype=np.int8).reshape(2, 4))
    graph.add_const("bias_i32", np.array([1, 2, 3, 4], np.int32))
    graph.add_node("Convert", ["w_i8"], ["w_f32"], {"destination_type": "f32"})
    graph.add_node("Convert", ["bias_i32"], ["bias_f32"], {"destination_type": "f32"})
    graph.add_node("Multiply", ["x", "w_f32"], ["y"])
    graph.add_node("Add", ["y", "bias_f32"], ["z"])
    graph.outputs = ["z"]
    infer_shapes(graph)
    kinds = [(n.op_type, n.inputs[0]) for n in graph.nodes]
    assert ("Convert", "w_i8") in kinds          # the weight chain stays for LPT
    assert ("Convert", "bias_i32") not in kinds  # an ordinary constant Convert folds
    assert graph.values["bias_f32"].data.dtype == np.float32
    assert graph.values["w_f32"].shape == (2, 4) and graph.values["w_f32"].dtype == np.float32


def test_fake_quantize_matches_openvino():
    rng = np.random.default_rng(6)
    x = rng.uniform(-3, 3, (2, 4, 5, 5)).astype(np.float32)
    il = rng.uniform(-2, -0.5, (1, 4, 1, 1)).astype(np.float32)
    ih = rng.uniform(0.5, 2, (1, 4, 1, 1)).astype(np.float32)
    ol, oh = np.array(-1.0, np.float32), np.array(1.5, np.float32)
    for levels in (256, 255, 16):
        (ours,) = run_op("FakeQuantize", x, il, ih, ol, oh, levels=levels)
        theirs = ov_run(lambda p, a, b, c, d, n=levels: ops.fake_quantize(p, a, b, c, d, n), x, il, ih, ol, oh)
        step = float(oh - ol) / (levels - 1)
        diff = np.abs(ours - theirs)
        # float rounding can move a value sitting on a tie by one step; allow a tiny fraction
        assert np.mean(diff > 1e-5) < 0.01 and diff.max() <= step + 1e-5


def test_shapes_of_elementwise_graph_infer_without_running_on_data():
    graph = Graph("shapes")
    graph.add_input("a", (2, 1, 5), np.float32)
    graph.add_input("b", (3, 1), np.float32)
    graph.add_node("Maximum", ["a", "b"], ["m"])
    graph.add_node("Less", ["m", "b"], ["c"])
    graph.add_node("Select", ["c", "a", "m"], ["s"])
    graph.add_node("Convert", ["s"], ["y"], {"destination_type": "u8"})
    graph.outputs = ["y", "c"]
    infer_shapes(graph)
    assert graph.values["y"].shape == (2, 3, 5) and graph.values["y"].dtype == np.uint8
    assert graph.values["c"].dtype == np.bool_
