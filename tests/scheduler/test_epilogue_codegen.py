"""The generated OpenCL epilogue computes what schedule.epilogue.run_epilogue computes.

Each program runs in a tiny kernel on random data (values spread over the
requantization range, exact ties included) on every installed runtime.  Programs
of exact float32 arithmetic must match bit for bit; programs with the device's
transcendental functions (exp, tanh, erf, log1p) may differ in float by a few
ulp, so after ``round`` at most 0.1% of the values may differ, by 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from gpu_int8.schedule.epilogue import ACTIVATIONS, run_epilogue
from gpu_int8.scheduler.epilogue_codegen import PRAGMA, canonical_requant, epilogue_function, float_literal

C = 16
N = 4096
rng = np.random.default_rng(1)

CONSTS = {
    "m": (rng.uniform(0.5, 2.0, C) * 0.01).astype(np.float32),
    "b": rng.uniform(-3, 3, C).astype(np.float32),
    "m1": np.array([0.37], np.float32),
    "b1": np.array([-1.25], np.float32),
    "ones": np.ones(1, np.float32),
    "zero": np.zeros(1, np.float32),
    "slope": rng.uniform(0.05, 0.3, C).astype(np.float32),
}
EXACT = {"relu", "clamp", "hswish", "hsigmoid", "hard_sigmoid", "prelu"}
ACT_PARAMS = {"clamp": {"min": -2.5, "max": 4.0}, "hard_sigmoid": {"alpha": 0.2, "beta": 0.5},
              "swish": {"beta": 1.25}, "elu": {"alpha": 0.7}, "prelu": {"slope": "slope"}}


def programs():
    """(id, program, exact) for every instruction and activation kind."""
    out = [("round-ties", [("affine", "ones", "zero"), ("round", -100, 100)], True),
           ("affine-round", [("affine", "m", "b"), ("round", 0, 255)], True),
           ("affine-float", [("affine", "m", "b")], True),
           ("add-residual", [("affine", "m", "b"), ("add", 1, "m1", "b1"), ("round", -128, 127)], True),
           ("mul-scale", [("affine", "m1", "b1"), ("mul", 1, "m", "b"), ("affine", "m", "b"), ("round", 0, 255)],
            True),
           ("double-round", [("affine", "m", "b"), ("round", -128, 127), ("affine", "m1", "b"),
                             ("round", 0, 255)], True)]
    for kind in ACTIVATIONS:
        program = [("affine", "m", "b"), ("act", kind, ACT_PARAMS.get(kind, {})), ("affine", "ones", "b1"),
                   ("round", -128, 127)]
        out.append((f"act-{kind}", program, kind in EXACT))
        out.append((f"act-{kind}-float", [("affine", "m", "b"), ("act", kind, ACT_PARAMS.get(kind, {}))],
                    kind in EXACT))
    return out


def run_on_device(device, program, y, channel, other, inline_scalars, width=1):
    import pyopencl as cl

    code = epilogue_function("ep_test", program, CONSTS, 2, C, inline_scalars=inline_scalars, width=width)
    if width == 1:
        body = "out[i] = " + code.call("y[i]", "c[i]", "k", {1: "o[i]"}) + ";"
    else:  # element i*8 + j has channel (i*8 + j) % C: lanes are consecutive channels
        body = "vstore8(" + code.call("vload8(i, y)", "c[8 * i]", "k", {1: "vload8(i, o)"}) + ", i, out);"
    source = PRAGMA + code.source + """
__kernel void t(__global const float *y, __global const int *c, __global const float *o,
                __global const float *k, __global float *out)
{
    const int i = get_global_id(0);
    """ + body + """
}
"""
    prg = cl.Program(device.context, source).build(options="-cl-std=CL1.2")
    alloc = device.allocator
    out = np.empty(N, np.float32)
    kbuf = alloc.from_numpy(code.consts if code.consts.size else np.zeros(1, np.float32))
    args = [alloc.from_numpy(y), alloc.from_numpy(channel.astype(np.int32)), alloc.from_numpy(other), kbuf,
            alloc.alloc(out.nbytes)]
    prg.t(device.queue, (N // width,), None, *args)
    return alloc.copyout(out, args[-1])


def make_data():
    acc = rng.integers(-3000, 3000, N).astype(np.float32)
    acc[:256] = np.arange(-128, 128) + np.float32(0.5)  # exact ties for rint
    channel = np.arange(N) % C
    other = rng.integers(-128, 128, N).astype(np.float32)
    return acc, channel, other


def reference_values(program, acc, channel, other):
    """run_epilogue on each element with its own channel (the channel axis last: y[i, c])."""
    y2 = np.zeros((N, C), np.float32)
    y2[np.arange(N), channel] = acc
    o2 = np.zeros((N, C), np.float32)
    o2[np.arange(N), channel] = other
    return run_epilogue(y2, program, CONSTS, [None, o2], 1)[np.arange(N), channel]


@pytest.mark.parametrize("inline_scalars, width", [(True, 1), (False, 1), (False, 8)],
                         ids=["literals", "buffer", "float8"])
@pytest.mark.parametrize("name, program, exact", programs(), ids=[p[0] for p in programs()])
def test_generated_epilogue_matches_run_epilogue(any_device, name, program, exact, inline_scalars, width):
    acc, channel, other = make_data()
    want = reference_values(program, acc, channel, other)
    got = run_on_device(any_device, program, acc, channel, other, inline_scalars, width)
    rounds = program[-1][0] == "round"
    if exact:
        np.testing.assert_array_equal(got, want)
    elif rounds:
        diff = np.abs(got.astype(np.float64) - want)
        assert diff.max() <= 1 and np.mean(diff > 0) <= 0.001, f"{np.mean(diff > 0):.4%} differ"
    else:
        # transcendental functions within a few ulp; 1 - tanh(x) cancels, so absolute error grows with |x|
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-5)


def test_literals_are_exact():
    for v in [0.1, -1 / 3, 1e-30, 3.0e38, 0.0, -0.0, 1 / 6]:
        text = float_literal(v).strip("()").rstrip("f")
        assert np.float32(float.fromhex(text)) == np.float32(v)
    assert float_literal(float("inf")) == "INFINITY"


def test_canonical_requant_folds_relu_and_clamp():
    m = CONSTS["m"]
    assert canonical_requant([("affine", "m", "b"), ("round", 0, 255)], CONSTS)[2:] == (0, 255)
    assert canonical_requant([("affine", "m", "b"), ("act", "relu", {}), ("round", -128, 127)], CONSTS)[2:] == (0, 127)
    folded = canonical_requant([("affine", "m", "b"), ("act", "clamp", {"min": -3.4, "max": 99.6}),
                                ("round", -128, 127)], CONSTS)
    assert folded[2:] == (-3, 100) and np.array_equal(folded[0], m)
    # anything else is not the plain requantization
    assert canonical_requant([("affine", "m", "b"), ("act", "hswish", {}), ("round", 0, 255)], CONSTS) is None
    assert canonical_requant([("affine", "m", "b"), ("add", 1, "m1", "b1"), ("round", 0, 255)], CONSTS) is None
    # and folding is exact: clamp(rint(y), lo', hi') == round(clamp(y))
    y = np.linspace(-10, 110, 4001).astype(np.float32)
    prog = [("affine", "ones", "zero"), ("act", "clamp", {"min": -3.4, "max": 99.6}), ("round", -128, 127)]
    ref = run_epilogue(y, prog, CONSTS, [], None)
    _, _, lo, hi = canonical_requant(prog, CONSTS)
    assert np.array_equal(np.clip(np.rint(y), lo, hi), ref)


@pytest.mark.parametrize("dtype, lo, hi", [("u8", 0, 255), ("i8", -128, 127), ("i8", -5, 100)])
@pytest.mark.parametrize("width", [1, 16])
def test_stored_8bit_values_are_their_rounded_values(any_device, dtype, lo, hi, width):
    """A program that ends rounding into an 8-bit type stores through the low byte of y + 1.5 * 2^23
    (store_expr); every value of the range comes out as itself, on every runtime.  Elsewhere the
    saturating conversion stays."""
    import pyopencl as cl

    from gpu_int8.scheduler.compile.context import store_expr

    program = [("affine", "m", "b"), ("round", lo, hi)]
    stored = store_expr(dtype, "v", width, program)
    assert "12582912.0f" in stored and "_sat" not in stored
    assert "_sat" in store_expr(dtype, "v", width, [("affine", "m", "b"), ("round", -300, 300)])
    assert "_sat" in store_expr(dtype, "v", width, [("affine", "m", "b")])
    assert "_sat" in store_expr(dtype, "v", width)
    t = "uchar" if dtype == "u8" else "char"
    value = "y[i]" if width == 1 else "vload16(i, y)"
    body = f"out[i] = {store_expr(dtype, value, width, program)};" if width == 1 else \
        f"vstore16({store_expr(dtype, value, width, program)}, i, out);"
    source = f"""
__kernel void t(__global const float *y, __global {t} *out)
{{
    const int i = get_global_id(0);
    {body}
}}
"""
    values = np.resize(np.arange(lo, hi + 1, dtype=np.float32), 512)
    prg = cl.Program(any_device.context, source).build(options="-cl-std=CL1.2")
    alloc = any_device.allocator
    out = np.empty(values.size, np.uint8 if dtype == "u8" else np.int8)
    dst = alloc.alloc(out.nbytes)
    prg.t(any_device.queue, (values.size // width,), None, alloc.from_numpy(values), dst)
    np.testing.assert_array_equal(alloc.copyout(out, dst), values.astype(out.dtype))


@pytest.mark.parametrize("width", [1, 16])
@pytest.mark.parametrize("name, program, exact", [p for p in programs() if p[1][-1][0] == "round"],
                         ids=[p[0] for p in programs() if p[1][-1][0] == "round"])
def test_rounding_left_to_the_store(any_device, name, program, exact, width):
    """``round_in_store``: the function clamps, the 8-bit store rounds half to even (ties
    included); the stored integers are the reference's."""
    import pyopencl as cl

    from gpu_int8.scheduler.compile.context import rounds_into, store_expr

    lo, hi = program[-1][1:]
    dtype = "u8" if lo >= 0 else "i8"
    assert rounds_into(program, dtype)
    acc, channel, other = make_data()
    want = reference_values(program, acc, channel, other)
    code = epilogue_function("ep_store", program, CONSTS, 2, C, inline_scalars=False, width=width,
                             round_in_store=True)
    assert code.source.count("rint(") == sum(ins[0] == "round" for ins in program) - 1
    t = "uchar" if dtype == "u8" else "char"
    if width == 1:
        body = f"out[i] = {store_expr(dtype, code.call('y[i]', 'c[i]', 'k', {1: 'o[i]'}), 1, program)};"
    else:  # 16 consecutive elements have 16 consecutive channels (C = 16)
        value = code.call("vload16(i, y)", "c[16 * i]", "k", {1: "vload16(i, o)"})
        body = f"vstore16({store_expr(dtype, value, 16, program)}, i, out);"
    source = PRAGMA + code.source + f"""
__kernel void t(__global const float *y, __global const int *c, __global const float *o,
                __global const float *k, __global {t} *out)
{{
    const int i = get_global_id(0);
    {body}
}}
"""
    prg = cl.Program(any_device.context, source).build(options="-cl-std=CL1.2")
    alloc = any_device.allocator
    out = np.empty(N, np.uint8 if dtype == "u8" else np.int8)
    args = [alloc.from_numpy(acc), alloc.from_numpy(channel.astype(np.int32)), alloc.from_numpy(other),
            alloc.from_numpy(code.consts if code.consts.size else np.zeros(1, np.float32)), alloc.alloc(out.nbytes)]
    prg.t(any_device.queue, (N // width,), None, *args)
    got = alloc.copyout(out, args[-1]).astype(np.float64)
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        diff = np.abs(got - want)
        assert diff.max() <= 1 and np.mean(diff > 0) <= 0.001, f"{np.mean(diff > 0):.4%} differ"
