"""Whole plans on OpenCL against the int8 reference executor (small hand-made schedules).

Every tensor of the plan is compared (plans built with ``keep_all`` so no buffer
is reused): integers must be equal, float tensors equal to float32 rounding.
Runs on Intel's CPU runtime with both kernel families and on PoCL with the
portable one.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gpu_int8.reference.int8_executor import Int8Executor
from gpu_int8.runtime.plan_executor import PlanExecutor
from gpu_int8.scheduler.compile.context import global_1d
from gpu_int8.scheduler.compile.indexing import Placement
from gpu_int8.scheduler.compile.matmul import row_chunk
from gpu_int8.scheduler.plan import build_plan
from gpu_int8.scheduler.program_cache import ProgramCache
from gpu_int8.scheduler.vnni_probe import vnni_supported
from tests.scheduler.schedules import zoo

#: MVN divides the rounding of its mean (summed in another order) by the standard deviation:
#: its outputs, of unit spread, carry a few 1e-6 of it
MVN_ATOL = 1e-5


def _outputs_close(got: dict, want: dict) -> None:
    for name, value in want.items():
        atol = MVN_ATOL if name.startswith("mvn") else 1e-6
        np.testing.assert_allclose(got[name], value, rtol=1e-5, atol=atol, err_msg=name)


def compare_all(plan, executor, reference_env):
    """Every tensor the plan stored vs the reference's; returns the names compared."""
    compared = []
    for sp in plan.steps:
        for name in sp.step.outputs:
            if name not in executor.buffers or name not in reference_env or name.endswith(":1"):
                continue
            got, want = executor._read(name), reference_env[name]
            if np.issubdtype(want.dtype, np.integer):
                np.testing.assert_array_equal(got, want, err_msg=f"{sp.kernel} step '{sp.step.name}'")
            else:
                atol = MVN_ATOL if sp.kernel == "mvn" else 1e-6
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol,
                                           err_msg=f"{sp.kernel} step '{sp.step.name}'")
            compared.append(name)
    return compared


def _checked_kernels(schedule, device, family: str, x: np.ndarray, names) -> dict[str, str]:
    """Each step's kernel in a ``keep_all`` plan of ``schedule`` run on input ``x``, after checking
    that the tensors ``names`` hold the int8 reference's values."""
    want = Int8Executor(schedule).run({"x": x}, keep_all=True)
    plan = build_plan(schedule, device, family, 16, keep_all=True)
    executor = PlanExecutor(plan)
    executor.run({"x": x})
    assert set(names) <= set(compare_all(plan, executor, want))
    return {sp.step.name: sp.kernel for sp in plan.steps}


def _fused_plan(schedule, device, family: str, x: np.ndarray, names):
    """A ``keep_all`` plan with fusion on, run on input ``x``, after checking that the tensors
    ``names`` hold the int8 reference's values: (each step's kernel, the executor, its outputs)."""
    want = Int8Executor(schedule).run({"x": x}, keep_all=True)
    plan = build_plan(schedule, device, family, 16, keep_all=True, fuse=True)
    executor = PlanExecutor(plan)
    outputs = executor.run({"x": x})
    assert set(names) <= set(compare_all(plan, executor, want))
    return {sp.step.name: sp.kernel for sp in plan.steps}, executor, outputs


def test_zoo_matches_reference(device_family):
    device, family = device_family
    schedule = zoo()
    x = np.random.default_rng(0).standard_normal((2, 3, 17, 19)).astype(np.float32)
    want = Int8Executor(schedule).run({"x": x}, keep_all=True)
    plan = build_plan(schedule, device, family, 16, keep_all=True)
    executor = PlanExecutor(plan)
    outputs = executor.run({"x": x})
    compared = compare_all(plan, executor, want)
    assert len(compared) >= 25
    _outputs_close(outputs, Int8Executor(schedule).run({"x": x}))
    kernels = {sp.step.name: sp.kernel for sp in plan.steps}
    # the paths this schedule exists to exercise
    assert kernels["sq"] == "host" and kernels["act"] == "eltwise_sigmoid"
    assert kernels["sm"] == kernels["sm2"] == kernels["sm3"] == "softmax"
    launched = {sp.step.name: [a.name for a in sp.actions] for sp in plan.steps}
    rows = "softmax_rows" if device.info.keeps_work_items_apart else "softmax"  # a row per work-item
    assert launched["sm2"] == [rows] and launched["sm3"] == ["softmax"], launched
    assert kernels["mvn"] == kernels["mvn2"] == "mvn" and kernels["att"] == kernels["att2"] == "attention"
    assert kernels["mm"] == kernels["mw"] == "matmul_rows" and kernels["mtb"] == "matmul"
    assert kernels["d3"] == "deconv_direct"
    # the portable family's GEMM kernels: float32 blocks, 128-bit dot loops, or 512-bit VNNI where it runs
    portable_gemms = ("gemm_portable", "gemm_dot", "gemm_vnni")
    family_gemms = portable_gemms if family == "portable" else (f"gemm_{family}",)
    conv_gemms = {f"{pre}conv_{k}" for k in family_gemms for pre in ("", "im2col+")}
    assert kernels["dc"] in {f"{k}+epilogue" for k in conv_gemms} | {"conv_gemm_vnni:scatter"}, \
        "stride == kernel: a 1x1 GEMM, then a gather (or stored in place by the vnni kernel)"
    assert kernels["mt"] in {f"transpose+{k}" for k in portable_gemms}
    assert kernels["c1"] in conv_gemms, "a relu epilogue runs fused in the family kernel"
    assert kernels["c4"] in {f"{k}:epilogue" for k in conv_gemms}, "a residual add runs inside the kernel"
    dwconvs = {"dwconv_portable", "dwconv_vnni"} if family == "portable" else {f"dwconv_{family}"}
    assert kernels["c2"] in {f"{k}:epilogue" for k in dwconvs}, "so does hswish"
    assert kernels["fc"].startswith(portable_gemms), "a constant-weight matmul runs on the GEMM kernel"
    if family == "portable":
        # NHWC, 48 channels: eight (or sixteen) at a time, with a per-image channel operand (rq)
        launched = {sp.step.name: sp.actions[0].kernel.name for sp in plan.steps if sp.step.name in ("rq", "rq2")}
        assert all(name.startswith("eltwise8") for name in launched.values()), launched
    # one program per build-option set (OpenCL C 1.2; the runtime's own C version), with the
    # depthwise and the eight-channel elementwise kernels apart
    assert plan.memory.arena_bytes > 0 and len(plan.builder.groups) <= 4


@pytest.mark.parametrize("vnni", [True, False], ids=["vnni-if-runs", "no-vnni"])
def test_vector_elementwise_kernels(device_family, vnni, monkeypatch):
    """The input's quantize from NCHW float to NHWC (W a multiple of 8), a requantize with a
    per-channel operand, convolutions running their whole epilogue in the GEMM kernel (16
    channels at a time in the vnni kernel), a padded 3x3 / 2 max pool with ceil rounding on 16
    channels (and on 24, 12 and 6: 8, 4 and 1 at a time in nhwc), and deconvolutions whose
    stride equals their kernel (16 channels; 24 with hswish; 8 channels from 3x3 taps, 72 GEMM
    channels; 8 float channels): on Intel's runtime the
    vector kernels (the max pool's on every device, the requantize's on every CPU runtime),
    everywhere the reference's values.  The integer deconvolutions store straight from the vnni
    kernel where it runs, else through a gathering epilogue pass; the ``no-vnni`` case checks
    the pass on a machine that has VNNI."""
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    if not vnni:
        monkeypatch.setattr("gpu_int8.scheduler.conv_kernels.vnni_supported", lambda *args: False)
    s = ScheduleBuilder("vectors", seed=5)
    x = s.input("x", (2, 3, 8, 16))
    q = s.quantize(x, "q", "i8", 0.03, 0)
    c1 = s.conv(q, "c1", 16, k=3, pad=1, act="relu")
    se = s.reduce_mean(c1, "se", dtype="u8")
    rq = s.requantize(c1, "rq", "u8", other=se, op="mul")
    # 32 channels: 16 per work-item on Intel's CPU runtime (24: 8), each lane its own channel's constants;
    # kept dims (NHWC out), dropped ones ([N, C] out), and rows only (NHWC, rows of 16 channels)
    c32 = s.conv(c1, "c32", 32, k=1, dtype="i8")
    means = [s.reduce_mean(c32, f"gm{i}", axes=axes, keep_dims=keep, dtype="i8", per_channel=True)
             for i, (axes, keep) in enumerate((((2, 3), True), ((2, 3), False), ((3,), True)))]
    means += [s.avg_pool(c32, "ap32", k=3, stride=1, pad=1, per_channel=True),  # padding reads the pad value
              s.avg_pool(c32, "ap32x", k=3, stride=2, pad=1, exclude_pad=True, ceil=True, per_channel=True)]
    c24 = s.conv(c1, "c24", 24, k=1, dtype="i8")  # 8 channels per work-item there
    means += [s.reduce_mean(c24, "gm24", dtype="i8", per_channel=True),
              s.avg_pool(c24, "ap24", k=3, stride=2, pad=1, per_channel=True)]
    deconvs = [s.deconv(rq, "dc", 16), s.deconv(c1, "dc2", 24, dtype="i8", act="hswish"),
               s.deconv(rq, "dc3", 8, k=3, stride=3)]
    deconvs_f32 = [s.deconv(rq, "dc4", 8, out_f32=True)]  # a float model output: GEMM, then the pass
    # one-group convolutions with a whole program in the kernel (hswish; a residual add, 40
    # channels: two full blocks of 16 and a partial one)
    c2 = s.conv(c1, "c2", 32, k=1, dtype="i8", act="hswish")
    c3 = s.conv(c2, "c3", 40, k=3, pad=1, residual=s.conv(c2, "c2r", 40, k=1))
    pool = {"kernel": [3, 3], "strides": [2, 2], "pads_begin": [1, 1], "pads_end": [0, 1],
            "rounding_type": "ceil", "opset": 8, "dilations": [1, 1]}
    mp = s.op("move", "MaxPool", [c1], "mp", [(2, 16, 4, 9), (2, 16, 4, 9)], ["u8", "i64"], pool, n_out=2)[0]
    # 24 channels: 8 at a time in nhwc (ShuffleNet's first pool); 12: 4 at a time; 6: one by one
    c12, c6 = s.conv(c1, "c12", 12, k=1), s.conv(c1, "c6", 6, k=1, dtype="i8")
    pools = [s.op("move", "MaxPool", [t], f"mp{s.shape(t)[1]}", [(2, s.shape(t)[1], 4, 9)] * 2,
                  [s.tensors[t].dtype, "i64"], pool, n_out=2)[0] for t in (c24, c12, c6)]
    s.outputs += [*deconvs, *deconvs_f32, mp, *pools, c3, *means]
    schedule = s.build()
    x_data = np.random.default_rng(1).standard_normal((2, 3, 8, 16)).astype(np.float32)
    want = Int8Executor(schedule).run({"x": x_data}, keep_all=True)
    plan = build_plan(schedule, device, family, 16, keep_all=True)
    executor = PlanExecutor(plan)
    executor.run({"x": x_data})
    compared = compare_all(plan, executor, want)
    assert {"q", "c1", "rq", "mp", *pools, "c2", "c3", *deconvs, *deconvs_f32, *means} <= set(compared)
    kernels = {sp.step.name: sp.kernel for sp in plan.steps}
    assert kernels["mp"] == "max_pool16"
    narrow = ["max_pool8", "max_pool4", "max_pool"] if family == "portable" else ["max_pool16"] * 3  # nhwc; fsv16
    assert [kernels[p] for p in pools] == narrow, kernels
    assert kernels["c2"].endswith(":epilogue") and kernels["c3"].endswith(":epilogue"), kernels
    launched = {sp.step.name: [a.kernel.name.split("__")[0] for a in sp.actions if hasattr(a, "args")]
                for sp in plan.steps}
    if family == "portable":  # a CPU runtime: the channel-vector elementwise kernel
        assert launched["rq"] == ["eltwise8"], launched
    if family == "portable":
        assert launched["q"] == ["eltwise_to_nhwc"], launched
    if family == "portable" and device.info.keeps_work_items_apart:
        items = {sp.step.name: sp.actions[0].global_size[0] for sp in plan.steps if sp.step.name in means}
        # the average pools: a work-item per row of up to 16 outputs
        outputs = {"gm0": 2 * 32, "gm1": 2 * 32, "gm2": 2 * 32 * 8, "ap32": 2 * 32 * 8, "ap32x": 2 * 32 * 5,
                   "gm24": 2 * 24, "ap24": 2 * 24 * 4}
        per_item = {k: 8 if "24" in k else 16 for k in outputs}  # channels per work-item
        assert items == {k: global_1d(v // per_item[k])[0][0] for k, v in outputs.items()}, items
        if vnni and vnni_supported(device.info, device.cache.directory):
            assert kernels["c2"] == kernels["c3"] == "conv_gemm_vnni:epilogue", kernels
            assert all(kernels[d] == "conv_gemm_vnni:scatter" for d in deconvs), kernels
        else:  # the GEMM is a CallLaunch, then the gather
            assert all(launched[d] == ["eltwise8"] for d in deconvs), launched


def test_means_by_reciprocal_are_the_quotients():
    """The pooling kernels take a mean as float(sum * (1.0 / count)) in double
    (``cl_kernels/channel_sums.cl``): the correctly rounded float quotient, for every sum of up
    to 49 taps and count up to 49, and for random sums below 2^24 over counts up to 2^16."""
    sums = np.arange(-49 * 128, 49 * 255 + 1, dtype=np.float64)
    for count in range(1, 50):
        np.testing.assert_array_equal((sums * (1.0 / count)).astype(np.float32),
                                      (sums / count).astype(np.float32), err_msg=str(count))
    rng = np.random.default_rng(0)
    big = rng.integers(-(2**24) + 1, 2**24, 200_000).astype(np.float64)
    counts = rng.integers(1, 2**16, 200_000).astype(np.float64)
    np.testing.assert_array_equal((big * (1.0 / counts)).astype(np.float32), (big / counts).astype(np.float32))


def test_average_pools_by_rows(device_family):
    """Average pools over NHWC rows wider than a work-item's outputs (37 columns: three tiles, the
    last in part), 16 and 8 channels at a time: 3x3 reading a nonzero pad value in the padding,
    3x3 / 2 excluding the padding with ceil rounding, 2x2 / 2 (DenseNet's), 5x5 with a wider
    padding, 4x4 / 2 with ceil rounding reading the pad value; everywhere the reference's values,
    and on Intel's CPU runtime the row kernel."""
    import dataclasses

    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    s = ScheduleBuilder("pools", seed=7)
    x = s.input("x", (2, 3, 7, 37))
    q = s.quantize(x, "q", "i8", 0.03, 0)
    c32, c24 = s.conv(q, "c32", 32, k=1, dtype="i8"), s.conv(q, "c24", 24, k=1)
    s.tensors[c32] = dataclasses.replace(s.tensors[c32], zero_point=np.float32([-9]))  # the pad value
    pools = [s.avg_pool(c32, "p3", k=3, stride=1, pad=1, per_channel=True),
             s.avg_pool(c32, "p3s2", k=3, stride=2, pad=1, exclude_pad=True, ceil=True, per_channel=True),
             s.avg_pool(c24, "p2s2", k=2, stride=2, pad=0, per_channel=True),
             s.avg_pool(c24, "p5", k=5, stride=1, pad=2),
             s.avg_pool(c32, "p4s2", k=4, stride=2, pad=1, ceil=True)]  # the last windows end past the padding
    s.outputs += pools
    x_data = np.random.default_rng(2).standard_normal((2, 3, 7, 37)).astype(np.float32)
    kernels = _checked_kernels(s.build(), device, family, x_data, pools)
    if family == "portable" and device.info.keeps_work_items_apart:
        assert all(kernels[p] == "avg_pool_rows" for p in pools), kernels


@pytest.mark.parametrize("shape", [(2, 3, 4, 24), (1, 1, 2, 32), (1, 2, 3, 16), (1, 4, 2, 16), (1, 7, 2, 48)],
                         ids=lambda s: "x".join(map(str, s)))
def test_input_quantize_to_nhwc(any_device, shape):
    """The model input's quantize into NHWC for a convolution: 16 pixels at a time interleaved by
    shuffles (W a multiple of 16, 1 to 7 channels; Intel's runtime) or 8 stored byte by byte
    (W = 24; PoCL); the reference's integers everywhere."""
    from tests.scheduler.schedules import ScheduleBuilder

    s = ScheduleBuilder("to_nhwc", seed=3)
    q = s.quantize(s.input("x", shape), "q", "u8", 0.02, 128)
    s.outputs.append(s.conv(q, "c", 8, k=1))
    schedule = s.build()
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    want = Int8Executor(schedule).run({"x": x}, keep_all=True)
    plan = build_plan(schedule, any_device, "portable", 16, keep_all=True)
    executor = PlanExecutor(plan)
    executor.run({"x": x})
    assert {"q", "c"} <= set(compare_all(plan, executor, want))
    assert plan.steps[0].actions[0].kernel.name.startswith("eltwise_to_nhwc")  # on every CPU runtime


@pytest.mark.parametrize("groups", [2, 4, 8, 16])
def test_grouped_1x1_convolutions(device_family, groups):
    """ShuffleNet's grouped 1x1 convolutions (u8 and i8 inputs, a residual epilogue): up to 8
    groups run on the VNNI kernel where it runs (these short ones as one block-diagonal GEMM),
    16 groups of 3 channels keep the grouped kernels; the reference's integers either way."""
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    s = ScheduleBuilder("grouped", seed=6)
    q = s.quantize(s.input("x", (2, 32, 6, 10)), "q", "u8", 0.03, 120)
    a = s.conv(q, "a", 48, k=1, groups=groups, dtype="i8")
    b = s.conv(a, "b", 48, k=1, groups=groups, dtype="u8", residual=a)
    s.outputs += [s.conv(b, "c", 16, k=1, groups=groups, dtype="i8")]
    x = np.random.default_rng(6).standard_normal((2, 32, 6, 10)).astype(np.float32)
    kernels = _checked_kernels(s.build(), device, family, x, "abc")
    dense = family == "portable" and groups <= 8 and vnni_supported(device.info, device.cache.directory)
    assert all(kernels[n].startswith("conv_gemm_vnni") == dense for n in "abc"), kernels


def test_grouped_convolutions_on_vnni(device_family):
    """Groups of a multiple of 16 output channels (AlexNet's 5x5 and 3x3 layers in 2 groups) run
    as they are on the VNNI kernel where it runs: padded windows read tap by tap, strides, a
    grouped 1x1 that needs no block-diagonal GEMM, an i8 input; the reference's integers."""
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    s = ScheduleBuilder("grouped_vnni", seed=9)
    q = s.quantize(s.input("x", (2, 16, 9, 11)), "q", "u8", 0.03, 120)
    a = s.conv(q, "a", 64, k=5, pad=2, groups=2, dtype="i8")
    b = s.conv(a, "b", 64, k=3, stride=2, pad=1, groups=4, act="relu")
    s.outputs += [s.conv(b, "c", 32, k=1, groups=2, dtype="i8", residual=None)]
    x = np.random.default_rng(9).standard_normal((2, 16, 9, 11)).astype(np.float32)
    kernels = _checked_kernels(s.build(), device, family, x, "abc")
    vnni = family == "portable" and vnni_supported(device.info, device.cache.directory)
    assert all(kernels[n].startswith("conv_gemm_vnni") == vnni for n in "abc"), kernels


def test_consecutive_moves_copy_once(any_device):
    """Move chains (moves whose tensor only the next move reads) copy once, from the first input:
    ShuffleNet's channel shuffle, a pad then a transpose (the fill value carried through), a
    reshape and its inverse (an alias), float moves; a tensor a model output also needs is
    stored.  Plans without ``keep_all``; the reference's outputs, step names kept."""
    from tests.scheduler.schedules import ScheduleBuilder

    i64 = np.int64
    s = ScheduleBuilder("chains", seed=8)
    q = s.quantize(s.input("x", (2, 12, 5, 6)), "q", "u8", 0.03, 120)
    c = s.conv(q, "c", 12, k=1)

    def move(op, x, name, shape, attrs, *consts):
        return s.op("move", op, [x], name, [shape], s.tensors[x].dtype, attrs, list(consts))[0]

    r5 = move("Reshape", c, "r5", (2, 3, 4, 5, 6), {"special_zero": False}, np.array([2, 3, 4, 5, 6], i64))
    t5 = move("Transpose", r5, "t5", (2, 4, 3, 5, 6), {}, np.array([0, 2, 1, 3, 4], i64))
    shuffled = move("Reshape", t5, "shuffled", (2, 12, 5, 6), {"special_zero": False}, np.array([2, 12, 5, 6], i64))
    s.outputs.append(s.conv(shuffled, "after", 8, k=1))
    pad = move("Pad", c, "pad", (2, 12, 7, 8), {"pad_mode": "constant"}, np.array([0, 0, 1, 1], i64),
               np.array([0, 0, 1, 1], i64), np.array(7, np.uint8))
    s.outputs.append(move("Transpose", pad, "padded_t", (2, 7, 8, 12), {}, np.array([0, 2, 3, 1], i64)))
    flat = move("Reshape", c, "flat", (2, 360), {"special_zero": False}, np.array([2, 360], i64))
    s.outputs.append(move("Reshape", flat, "back", (2, 12, 5, 6), {"special_zero": False},
                          np.array([2, 12, 5, 6], i64)))
    fl = s.dequantize(c, "fl")
    ft = s.op("float", "Transpose", [fl], "ft", [(2, 5, 6, 12)], "f32", {}, [np.array([0, 2, 3, 1], i64)])[0]
    s.outputs.append(s.op("float", "Reshape", [ft], "fr", [(2, 30, 12)], "f32", {"special_zero": False},
                          [np.array([2, 30, 12], i64)])[0])
    kept = move("Transpose", c, "kept", (2, 5, 6, 12), {}, np.array([0, 2, 3, 1], i64))
    s.outputs += [kept, move("Reshape", kept, "kept_r", (2, 30, 12), {"special_zero": False},
                             np.array([2, 30, 12], i64))]
    schedule = s.build()
    x = np.random.default_rng(8).standard_normal((2, 12, 5, 6)).astype(np.float32)
    plan = build_plan(schedule, any_device, "portable")
    executor = PlanExecutor(plan)
    got, want = executor.run({"x": x}), Int8Executor(schedule).run({"x": x})
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    kernels = {sp.step.name: sp.kernel for sp in plan.steps}
    assert [kernels[n] for n in ("r5", "t5", "pad", "flat", "ft")] == ["fused"] * 5, kernels
    assert kernels["shuffled"] == kernels["fr"] == "copy_box" and kernels["back"] == "alias"
    assert kernels["padded_t"] == "copy_box+fill"  # the pad value, then the copy
    assert "fused" not in (kernels["kept"], kernels["kept_r"])  # a model output is stored
    assert "r5" not in executor.buffers and "t5" not in executor.buffers
    assert [p.name for p in executor.profile()] == [step.name for step in schedule.steps]
    stored = build_plan(schedule, any_device, "portable", keep_all=True)
    assert "fused" not in {sp.kernel for sp in stored.steps}


def test_transposing_copies(any_device, monkeypatch):
    """Box copies whose output's contiguous axis is strided in the input (channels last of 2, 4
    or 8 channels; ShuffleNet's shuffle after a convolution storing NHWC) copy tiles: runs of the
    input's contiguous axis, interleaved.  Bytes and float words, tiles of 16 and of 8, and a
    width no tile fits (odd), against the reference."""
    import gpu_int8.scheduler.compile.move as move
    from tests.scheduler.schedules import ScheduleBuilder

    tiles = []
    spied = move._transposing_tile
    monkeypatch.setattr(move, "_transposing_tile", lambda box: tiles.append(spied(box)) or tiles[-1])
    i64 = np.int64
    s = ScheduleBuilder("transposes", seed=3)
    cases = {}
    for c, w in ((2, 16), (4, 8), (8, 6), (4, 6), (4, 7)):
        # 3-D: stored plain whatever the device (4-D u8 tensors may be stored NHWC)
        q = s.quantize(s.input(f"x{c}_{w}", (6, c, w)), f"q{c}_{w}", "u8", 0.03, 120)
        for x in (q, s.dequantize(q, f"f{c}_{w}")):
            name = f"{x}_t"
            s.outputs += s.op("move", "Transpose", [x], name, [(6, w, c)], s.tensors[x].dtype, {},
                              [np.array([0, 2, 1], i64)])
            cases[name] = c, w
    schedule = s.build()
    rng = np.random.default_rng(4)
    feeds = {name: rng.standard_normal(schedule.tensors[name].shape).astype(np.float32) for name in schedule.inputs}
    want = Int8Executor(schedule).run(feeds)
    got = PlanExecutor(build_plan(schedule, any_device, "portable")).run(feeds)
    for name in cases:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    runs = [t[1] if t else None for t in tiles]
    assert runs == [8, 8, 4, 4, 2, 2, 2, 2, None, None], runs  # 16 per tile, then 8


def test_lrn_across_channels(any_device):
    """LRN over channels as a kernel: AlexNet's (size 5, beta 0.75: square roots), an even window
    with another beta (pow), a window wider than the channels, a 3-D tensor, after a convolution
    writing float NCHW; over spatial axes it stays on the host.  The reference's floats (both in
    double where the device has it)."""
    from tests.scheduler.schedules import ScheduleBuilder

    i64 = np.int64
    s = ScheduleBuilder("lrn", seed=4)
    fl = s.dequantize(s.quantize(s.input("x", (2, 6, 5, 7)), "q", "u8", 0.03, 100), "fl")
    flat = s.op("move", "Reshape", [fl], "flat", [(2, 6, 35)], "f32", {"special_zero": False},
                [np.array([2, 6, 35], i64)])[0]
    # a convolution writing float NCHW for it (straight from the vnni kernel where that runs)
    cf = s.conv("q", "cf", 16, k=3, pad=1, act="relu", out_f32=True)
    cases = {"alexnet": (fl, [1], 5, 1e-4, 0.75, 1.0), "even": (fl, [1], 4, 0.6, 0.6, 2.0),
             "after_conv": (cf, [1], 5, 0.3, 0.75, 1.0),
             "wide": (fl, [-3], 9, 0.9, 0.75, 1.5), "rank3": (flat, [1], 3, 0.5, 0.8, 1.0),
             "spatial": (fl, [2, 3], 3, 0.5, 0.75, 1.0)}
    for name, (x, axes, size, alpha, beta, bias) in cases.items():
        s.outputs += s.op("float", "LRN", [x], name, [s.shape(x)], "f32",
                          {"alpha": alpha, "beta": beta, "bias": bias, "size": size, "opset": 1},
                          [np.array(axes, i64)])
    schedule = s.build()
    x = np.random.default_rng(5).standard_normal((2, 6, 5, 7)).astype(np.float32) * 2
    want = Int8Executor(schedule).run({"x": x}, keep_all=True)
    plan = build_plan(schedule, any_device, "portable", 16, keep_all=True)
    executor = PlanExecutor(plan)
    executor.run({"x": x})
    assert set(cases) <= set(compare_all(plan, executor, want))
    kernels = {sp.step.name: sp.kernel for sp in plan.steps}
    assert [kernels[n] for n in cases] == ["lrn"] * 5 + ["host"]
    to_nchw = vnni_supported(any_device.info, any_device.cache.directory)
    assert (kernels["cf"] == "conv_gemm_vnni:to_nchw") == to_nchw, kernels  # else int32, then a pass
    assert not np.allclose(want["even"], want["fl"] / 2.0 ** 0.6, rtol=1e-3)  # the window sum matters


@pytest.mark.parametrize("spread", [2.0**-18, 1.0], ids=["float_first", "all_in_double"])
def test_lrn_with_its_quantization_in_one_kernel(device_family, spread, monkeypatch):
    """Dequantize -> LRN -> quantize, and a float convolution -> LRN -> quantize, as one kernel
    storing the reference's integers: AlexNet's LRN (float first, double near a rounding step
    where the device allows), per-channel quantization, 20 channels (work-items past them), an
    even window with another beta (double only); an LRN a model output also needs stays apart.
    On Intel's CPU runtime, 32 and 48 channels take 16 at a time (first, middle and last
    blocks), int8 and float inputs; with a spread of 1 every lane is taken again in double."""
    from tests.scheduler.schedules import ScheduleBuilder

    monkeypatch.setattr("gpu_int8.scheduler.compile.lrn_group.SPREAD", spread)
    device, family = device_family

    i64 = np.int64
    s = ScheduleBuilder("lrn_q", seed=6)
    q = s.quantize(s.input("x", (2, 8, 9, 7)), "q", "u8", 0.03, 100)
    c1 = s.conv(q, "c1", 32, k=3, pad=1)

    def lrn(x, name, size, alpha, beta):
        return s.op("float", "LRN", [x], name, [s.shape(x)], "f32",
                    {"alpha": alpha, "beta": beta, "bias": 1.0, "size": size, "opset": 1}, [np.array([1], i64)])[0]

    def quantize(x, name, dtype, channels=None):  # per channel where ``channels`` is given
        lo, hi = (0, 255) if dtype == "u8" else (-128, 127)
        m = s.vec(channels or 1, 20, 40)
        s._tensor(name, s.shape(x), dtype)
        s._step(name, "quantize", [x], [name], consts={"m": m, "b": s.vec(m.size, -10, 10)},
                epilogue=[("affine", "m", "b"), ("round", lo, hi)], axis=1 if channels else None)
        return name

    q1 = quantize(lrn(s.dequantize(c1, "d1"), "l1", 5, 0.05, 0.75), "q1", "u8", 32)
    s.outputs.append(s.conv(q1, "after", 16, k=1))
    cf = s.conv(q, "cf", 20, k=3, pad=1, act="relu", out_f32=True)
    s.outputs.append(quantize(lrn(cf, "l2", 5, 0.02, 0.75), "q2", "i8"))
    s.outputs.append(quantize(lrn(s.dequantize(c1, "d3"), "l3", 4, 0.6, 0.6), "q3", "i8"))
    l4 = lrn(s.dequantize(c1, "d4"), "l4", 5, 0.05, 0.75)
    s.outputs += [l4, quantize(l4, "q4", "u8")]
    c48, cf32 = s.conv(q, "c48", 48, k=1), s.conv(q, "cf32", 32, k=1, out_f32=True)
    q5 = quantize(lrn(s.dequantize(c48, "d5"), "l5", 5, 0.05, 0.75), "q5", "i8", 48)
    q6 = quantize(lrn(cf32, "l6", 7, 0.01, 0.75), "q6", "u8")
    s.outputs += [s.conv(q5, "after5", 16, k=1), s.conv(q6, "after6", 16, k=1)]  # NHWC, as a convolution reads
    schedule = s.build()
    x = np.random.default_rng(6).standard_normal((2, 8, 9, 7)).astype(np.float32) * 2
    kernels, executor, outputs = _fused_plan(schedule, device, family, x,
                                             {"q1", "q2", "q3", "q4", "q5", "q6", "after", "after5", "after6"})
    assert [kernels[n] for n in ("d1", "l1", "l2", "d3", "l3")] == ["fused"] * 5, kernels
    by_rows = family == "portable" and device.info.keeps_work_items_apart and "cl_khr_fp64" in device.info.extensions
    rows = "lrn_q_rows" if by_rows else "lrn_q"
    assert [kernels[n] for n in ("q1", "q2", "q3", "l4", "q4", "q5", "q6")] == \
        [rows, "lrn_q", "lrn_q", "lrn", "eltwise", rows, rows], kernels
    # the convolution's float output, stored NHWC for the LRN where the convolutions work in NHWC
    assert executor.plan.placements["cf"].layout == ("nhwc" if family == "portable" else "plain")
    q1 = executor._read("q1")
    assert not all(np.array_equal(q1[:, i], q1[:, 0]) for i in range(32))
    shared = PlanExecutor(build_plan(schedule, device, family, 16)).run({"x": x})
    for name, value in Int8Executor(schedule).run({"x": x}).items():
        np.testing.assert_array_equal(shared[name], value, err_msg=name)


@pytest.mark.parametrize("rows_from", [1, 10**9], ids=["row_per_item", "group_per_row"])
def test_layer_norm_with_its_quantization_in_one_kernel(device_family, rows_from, monkeypatch):
    """Dequantize -> MVN -> quantize (per element of the last axis, as PP-OCRv4 rec's layer
    norms) and a float MatMul -> MVN -> quantize (per tensor) as one ``plan_mvn.cl`` kernel;
    an MVN quantized along another axis stays apart.  Integers as the reference's, or off by
    one where the kernel's float mean (summed in another order) meets a rounding tie.  Both
    kernels: a work-item or a work-group per row."""
    import gpu_int8.scheduler.compile.float_ops as float_ops
    from tests.scheduler.schedules import ScheduleBuilder

    monkeypatch.setattr(float_ops, "MVN_ROWS_PER_ITEM_FROM", rows_from)
    device, family = device_family
    s = ScheduleBuilder("mvn_q", seed=7)
    q = s.quantize(s.input("x", (2, 6, 24)), "q", "u8", 0.03, 100)

    def mvn(x, name, eps_mode="inside_sqrt"):
        return s.op("float", "MVN", [x], name, [s.shape(x)], "f32",
                    {"normalize_variance": True, "eps": 1e-5, "eps_mode": eps_mode}, [np.array([-1])])[0]

    def quantize(x, name, axis):
        channels = s.shape(x)[axis] if axis is not None else 1
        s._tensor(name, s.shape(x), "i8")
        s._step(name, "quantize", [x], [name], consts={"m": s.vec(channels, 20, 40), "b": s.vec(channels, -5, 5)},
                epilogue=[("affine", "m", "b"), ("round", -128, 127)], axis=axis)
        return name

    s.outputs.append(quantize(mvn(s.dequantize(q, "d1"), "n1"), "q1", 2))
    s.outputs.append(quantize(mvn(s.matmul(q, "mm", n_out=16), "n2", "outside_sqrt"), "q2", None))
    s.outputs.append(quantize(mvn(s.dequantize(q, "d3"), "n3"), "q3", 1))
    schedule = s.build()
    x = np.random.default_rng(7).standard_normal((2, 6, 24)).astype(np.float32)
    want = Int8Executor(schedule).run({"x": x}, keep_all=True)
    plan = build_plan(schedule, device, family, 16, keep_all=True, fuse=True)
    executor = PlanExecutor(plan)
    executor.run({"x": x})
    kernels = {sp.step.name: sp.kernel for sp in plan.steps}
    assert [kernels[n] for n in ("d1", "n1", "q1", "n2", "q2", "n3", "q3")] == \
        ["fused", "fused", "mvn_q", "fused", "mvn_q", "mvn", "eltwise"], kernels
    for name in ("q1", "q2", "q3"):
        diff = np.abs(executor._read(name).astype(int) - want[name].astype(int))
        assert diff.max() <= 1 and np.mean(diff > 0) <= 0.01, (name, np.count_nonzero(diff))
    assert not np.array_equal(want["q1"][..., 0], want["q1"][..., 1])  # per-element scales applied


def test_convolutions_store_into_their_concat(device_family):
    """Branch convolutions the VNNI kernel runs store straight into the channel Concat after
    them (the Concat copies its other inputs): GoogLeNet-like branches with a pooled one, a
    branch a second step also reads (copied), a residual epilogue (copied), a Concat that is a
    model output; every stored tensor is the reference's."""
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    s = ScheduleBuilder("concat", seed=3)
    q = s.quantize(s.input("x", (2, 16, 9, 7)), "q", "u8", 0.03, 100)
    a = s.conv(q, "a", 32, k=1)
    b = s.conv(q, "b", 24, k=3, pad=1)
    shared = s.conv(q, "shared", 16, k=1)
    res = s.conv(q, "res", 16, k=1, residual=shared)
    pool = s.op("move", "MaxPool", [q], "pool", [(2, 16, 9, 7)], "u8",
                {"kernel": [3, 3], "strides": [1, 1], "pads_begin": [1, 1], "pads_end": [1, 1],
                 "dilations": [1, 1], "rounding_type": "floor", "auto_pad": "explicit"})[0]
    cat = s.op("move", "Concat", [a, b, pool, shared, res], "cat", [(2, 104, 9, 7)], "u8", {"axis": 1})[0]
    s.outputs += [s.conv(cat, "after", 16, k=1), s.conv(shared, "also", 8, k=1)]
    c2 = s.op("move", "Concat", [s.conv(q, "d", 16, k=1), s.conv(q, "e", 16, k=3, pad=1)], "cat2",
              [(2, 32, 9, 7)], "u8", {"axis": -3})[0]
    s.outputs.append(c2)
    schedule = s.build()
    x = np.random.default_rng(3).standard_normal((2, 16, 9, 7)).astype(np.float32)
    kernels, executor, outputs = _fused_plan(schedule, device, family, x, {"cat", "cat2", "after", "also"})
    in_place = family == "portable" and vnni_supported(device.info, device.cache.directory) \
        and device.info.keeps_work_items_apart
    stored = {n for n in kernels if kernels[n].endswith(":in_place")}
    assert stored == ({"a", "b", "d", "e"} if in_place else set()), kernels
    assert kernels["cat"] == ("copy_box" if in_place else kernels["cat"]) and kernels["cat2"] == \
        ("fused" if in_place else "copy_box"), kernels
    assert ("a" in executor.buffers) != in_place and "shared" in executor.buffers
    got = PlanExecutor(build_plan(schedule, device, family, 16)).run({"x": x})
    for name, value in Int8Executor(schedule).run({"x": x}).items():
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def test_requantization_stores_its_input_into_the_next_concat(device_family):
    """DenseNet-like layers: each reads the growing concatenation twice, a requantization for its
    1x1 convolution and the next Concat.  Where the NHWC channel-vector kernel runs the
    requantization, it also stores its input into that Concat's output (24 channels: 8 at a
    time; 16, 32: 16 on Intel's runtime), and the Concat copies nothing.  Not paired: a tensor a
    third step reads, and a requantization after its Concat.  Every value is the reference's."""
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    s = ScheduleBuilder("dense", seed=4)
    cat = s.quantize(s.input("x", (2, 16, 6, 5)), "q", "i8", 0.04, 3)
    for layer, width in enumerate((16, 24)):
        r = s.requantize(cat, f"r{layer}", "u8", act="relu")
        new = s.conv(s.conv(r, f"b{layer}", 16, k=1), f"n{layer}", 8, k=3, pad=1, dtype="i8")
        cat = s.op("move", "Concat", [cat, new], f"cat{layer}", [(2, width + 8, 6, 5)], "i8", {"axis": 1})[0]
    late = s.op("move", "Concat", [cat, s.conv(cat, "side", 8, k=1, dtype="i8")], "late", [(2, 40, 6, 5)], "i8",
                {"axis": 1})[0]
    s.outputs += [s.requantize(cat, "after", "u8"), s.conv(s.requantize(late, "r_late", "u8"), "end", 8, k=1),
                  s.op("move", "Concat", [late, s.conv(late, "tail", 8, k=1, dtype="i8")], "cat_out",
                       [(2, 48, 6, 5)], "i8", {"axis": 1})[0]]
    schedule = s.build()
    x = np.random.default_rng(4).standard_normal((2, 16, 6, 5)).astype(np.float32)
    kernels, executor, outputs = _fused_plan(schedule, device, family, x, {"cat0", "cat1", "r0", "r1", "late"})
    paired = family == "portable" and not device.info.is_gpu
    in_place = paired and vnni_supported(device.info, device.cache.directory) and device.info.keeps_work_items_apart
    assert [kernels[n] == "eltwise+copy" for n in ("r0", "r1")] == [paired] * 2, kernels
    # each Concat copies what no other step stored: its new channels, unless their convolution did
    copies = {sp.step.name: len(sp.actions) for sp in executor.plan.steps}
    assert [copies["cat0"], copies["cat1"]] == [2 - paired - in_place] * 2, (kernels, copies)
    # cat1 has three readers (after, side, late); r_late comes after late's Concat and cat_out
    assert kernels["after"] != "eltwise+copy" and kernels["r_late"] != "eltwise+copy", kernels
    got = PlanExecutor(build_plan(schedule, device, family, 16)).run({"x": x})
    for name, value in Int8Executor(schedule).run({"x": x}).items():
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def test_grouped_convolutions_padded_to_blocks(device_family):
    """ShuffleNet's groups of 68 and 28 channels run as groups on the VNNI kernel where it runs,
    each padded to whole blocks of 16 (80, 32): a residual epilogue, requantized stores of a
    group's last 4 and 12 channels, two stored straight into their Concat.  The reference's
    integers in every tensor."""
    from gpu_int8.scheduler.conv_geometry import ConvGeometry
    from gpu_int8.scheduler.vnni_gemm import as_dense_gemm
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    for c, cout in ((272, 272), (272, 112)):  # as groups, not one block-diagonal GEMM
        assert as_dense_gemm(ConvGeometry(2, c, 4, 5, cout, groups=4), np.zeros((cout, c // 4, 1, 1))) is None
    s = ScheduleBuilder("padded_groups", seed=7)
    q = s.quantize(s.input("x", (2, 272, 4, 5)), "q", "u8", 0.03, 120)
    a = s.conv(q, "a", 272, k=1, groups=4, dtype="i8")
    b = s.conv(a, "b", 272, k=1, groups=4, dtype="u8", residual=a)
    c, d = s.conv(b, "c", 112, k=1, groups=4), s.conv(b, "d", 112, k=1, groups=4, dtype="u8", act="relu")
    cat = s.op("move", "Concat", [c, d], "cat", [(2, 224, 4, 5)], "u8", {"axis": 1})[0]
    s.outputs += [b, s.conv(cat, "after", 16, k=1)]
    schedule = s.build()
    x = np.random.default_rng(7).standard_normal((2, 272, 4, 5)).astype(np.float32)
    kernels, executor, outputs = _fused_plan(schedule, device, family, x, {"a", "b", "cat", "after"})
    vnni = family == "portable" and vnni_supported(device.info, device.cache.directory)
    assert all(kernels[n].startswith("conv_gemm_vnni") == vnni for n in "abcd"), kernels
    if vnni and device.info.keeps_work_items_apart:
        assert kernels["c"] == kernels["d"] == "conv_gemm_vnni:in_place", kernels


def test_depthwise_half_blocks_in_every_store_mode(device_family):
    """Depthwise layers of 40 channels (PP-OCR cls's 88, 104, 200: 16k + 8): where vectors are
    16 wide the last block overlaps the one before it and stores its last 8 channels.  A plain
    requantization (u8 and i8), the generated epilogue (hswish), one reading a residual branch
    at the stored channels, and raw sums for a float output: the reference's integers in each."""
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    s = ScheduleBuilder("half_blocks", seed=11)
    q = s.quantize(s.input("x", (2, 40, 7, 9)), "q", "u8", 0.03, 120)
    a = s.conv(q, "a", 40, k=3, pad=1, groups=40, dtype="i8", act="relu")
    b = s.conv(a, "b", 40, k=3, pad=1, groups=40, dtype="u8", act="hswish")
    c = s.conv(b, "c", 40, k=5, stride=2, pad=2, groups=40, dtype="i8")
    d = s.conv(a, "d", 40, k=3, pad=1, groups=40, dtype="u8", residual=a)
    s.outputs += [c, d, s.conv(d, "e", 40, k=3, pad=1, groups=40, out_f32=True)]
    schedule = s.build()
    x = np.random.default_rng(11).standard_normal((2, 40, 7, 9)).astype(np.float32)
    kernels, _, outputs = _fused_plan(schedule, device, family, x, {"a", "b", "c", "d"})
    _outputs_close(outputs, Int8Executor(schedule).run({"x": x}))
    assert all(kernels[n].startswith("dwconv") for n in "abcde"), kernels
    assert kernels["b"].endswith(":epilogue") and kernels["d"].endswith(":epilogue"), kernels


def test_squeeze_excitation_gates(device_family, monkeypatch):
    """MobileNetV3's gates (mean over the pixels, 1x1 convolutions to a quarter of the channels
    and back, on 1x1 pixels) run as one kernel: with the mean inside (u8 and i8 inputs, batch 2,
    an f32 gate), or after its own kernel where the tensor is large (per-channel constants).
    A mean another step reads too stays apart.  The reference's integers in every tensor."""
    import gpu_int8.scheduler.compile.se_gate as se_gate
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    monkeypatch.setattr(se_gate, "MEAN_IN_GATE_MAX", 32 * 5 * 7)  # the 48-channel tensor is "large"
    s = ScheduleBuilder("se", seed=9)
    q = s.quantize(s.input("x", (2, 8, 5, 7)), "q", "u8", 0.03, 120)
    for name, cout, dtype, per_channel, gate_out in (("s", 32, "u8", False, False), ("t", 48, "i8", True, False),
                                                     ("u", 32, "i8", False, True), ("v", 16, "u8", False, False)):
        x = s.conv(q, f"{name}x", cout, k=1, dtype=dtype)
        m = s.reduce_mean(x, f"{name}m", dtype=dtype, per_channel=per_channel)
        a = s.conv(m, f"{name}a", cout // 4, k=1, dtype="u8", act="relu")
        g = s.conv(a, f"{name}g", cout, k=1, dtype="u8", act="clamp", out_f32=gate_out)
        s.outputs.append(g if gate_out else s.requantize(x, f"{name}y", "u8", other=g, op="mul"))
    s.outputs.append("vm")  # read by a model output: its gate keeps it apart
    schedule = s.build()
    x = np.random.default_rng(9).standard_normal((2, 8, 5, 7)).astype(np.float32)
    kernels, executor, outputs = _fused_plan(schedule, device, family, x, {"sx", "sy", "tm", "ty", "ug", "vy"})
    _outputs_close(outputs, Int8Executor(schedule).run({"x": x}))
    assert len(np.unique(outputs["ug"])) > 40  # a float gate: every error in the mean or a sum shows
    assert [kernels[n] for n in ("sm", "sa", "sg", "um", "ua", "ug")] == ["fused", "fused", "se_gate"] * 2, kernels
    assert [kernels[n] for n in ("tm", "ta", "tg")] == ["reduce_mean", "fused", "se_gate"], kernels
    assert kernels["vm"] == "reduce_mean" and kernels["vg"] == "se_gate", kernels
    assert "sm" not in executor.buffers and "sa" not in executor.buffers
    stored = build_plan(schedule, device, family, 16, keep_all=True)
    assert "se_gate" not in {sp.kernel for sp in stored.steps}


def test_squeeze_excitation_multiplies_in_the_gates_launch(device_family):
    """With one image and a small tensor, the multiply by the gate runs in the gate's launch:
    the vector elementwise kernel, each work-group first computing the gate into local memory
    (u8 and i8 tensors of 32 and 40 channels: 16 or 8 at a time; per-channel multiply constants).
    Where that kernel does not apply (another family's layout), the gate goes to a tensor of the
    step's own, then the multiply.  The reference's integers in every tensor either way."""
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    s = ScheduleBuilder("se1", seed=10)
    q = s.quantize(s.input("x", (1, 8, 5, 7)), "q", "u8", 0.03, 120)
    for name, cout, dtype in (("s", 32, "u8"), ("t", 40, "i8")):
        x = s.conv(q, f"{name}x", cout, k=1, dtype=dtype)
        m = s.reduce_mean(x, f"{name}m", dtype=dtype)
        g = s.conv(s.conv(m, f"{name}a", cout // 4, k=1, dtype="u8", act="relu"), f"{name}g", cout, k=1,
                   dtype="u8", act="clamp")
        s.outputs.append(s.requantize(x, f"{name}y", "i8", other=g, op="mul"))
    schedule = s.build()
    x = np.random.default_rng(10).standard_normal((1, 8, 5, 7)).astype(np.float32)
    kernels, executor, outputs = _fused_plan(schedule, device, family, x, {"sx", "sy", "tx", "ty"})
    _outputs_close(outputs, Int8Executor(schedule).run({"x": x}))
    assert all(len(np.unique(outputs[n])) > 20 for n in ("sy", "ty"))
    vector = family == "portable" and not device.info.is_gpu
    # the intel family stores 40 channels padded to 48: that gate's steps keep kernels of their own
    for name in "st" if family != "intel" else "s":
        assert [kernels[f"{name}{k}"] for k in "mag"] == ["fused"] * 3, kernels
        assert kernels[f"{name}y"] == ("se_gate" if vector else "se_gate+eltwise"), kernels
        assert not {f"{name}m", f"{name}a", f"{name}g"} & set(executor.buffers)


def test_upsampling_requantizes_first(device_family):
    """PP-OCRv4 det's nearest upsamplings, each requantized (per channel) for a Concat, a step
    later or right after: the requantization runs on the small tensor at the upsampling's place
    and the gather copies its integers (the reference's), where the layout allows straight into
    the Concat; an upsampling another step reads too, and a requantization with a second
    operand, keep their order."""
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    attrs = {"mode": "nearest", "shape_calculation_mode": "scales", "coordinate_transformation_mode": "asymmetric",
             "nearest_mode": "floor", "opset": 11}
    s = ScheduleBuilder("upsample", seed=5)
    q = s.quantize(s.input("x", (2, 8, 3, 4)), "q", "i8", 0.03, 0)
    small = s.conv(q, "small", 24, k=1, dtype="i8")

    def upsample(name, factor):
        return s.op("move", "Interpolate", [small], name, [(2, 24, 3 * factor, 4 * factor)], "i8", attrs,
                    [np.array([1, 1, factor, factor], np.float32)])[0]

    up2, up2b, up4 = upsample("up2", 2), upsample("up2b", 2), upsample("up4", 4)
    kept, other = upsample("kept", 2), upsample("other", 2)
    r4 = s.requantize(up4, "r4", "i8")
    r2 = s.requantize(up2, "r2", "i8")
    rk = s.requantize(kept, "rk", "u8", act="relu")
    ro = s.requantize(other, "ro", "i8", other=kept, op="add")
    cat = s.op("move", "Concat", [r2, s.requantize(up2b, "r2b", "i8")], "cat", [(2, 48, 6, 8)], "i8", {"axis": 1})[0]
    s.outputs += [cat, r4, rk, ro, kept]
    schedule = s.build()
    x = np.random.default_rng(5).standard_normal((2, 8, 3, 4)).astype(np.float32)
    kernels, executor, outputs = _fused_plan(schedule, device, family, x, {"r4", "cat", "rk", "ro"})
    assert all(kernels[n].startswith("eltwise+") for n in ("up2", "up2b", "up4")), kernels  # + a copy
    assert kernels["r2"] == kernels["r4"] == "fused" and "up2" not in executor.buffers, kernels
    in_place = executor.plan.placements["cat"].layout == "nhwc"  # the Concat's copies: none, or both
    assert all(kernels[n].endswith(":in_place") == in_place for n in ("up2", "up2b")), kernels
    assert (kernels["cat"] == "fused") == in_place and ("r2" in executor.buffers) != in_place, kernels
    assert not kernels["kept"].startswith("eltwise") and kernels["ro"] == kernels["rk"] == "eltwise", kernels
    stored = build_plan(schedule, device, family, 16, keep_all=True)
    assert not any(sp.kernel.startswith("eltwise+") for sp in stored.steps)


def test_memory_reuse_and_profile(any_device):
    schedule = zoo(batch=1)
    x = np.random.default_rng(3).standard_normal((1, 3, 17, 19)).astype(np.float32)
    plan = build_plan(schedule, any_device, "portable")
    assert plan.memory.arena_bytes < plan.memory.naive_bytes  # buffers are shared by liveness
    executor = PlanExecutor(plan)
    out = executor.run({"x": x})
    _outputs_close(out, Int8Executor(schedule).run({"x": x}))
    profile = executor.profile()
    assert [p.name for p in profile] == [s.name for s in schedule.steps]
    by_name = {p.name: p for p in profile}
    assert by_name["sq"].where == "host" and by_name["sq"].launches == 0
    # one launch, two where the kernel gathers windows first
    assert by_name["c1"].where == "opencl" and by_name["c1"].seconds > 0
    assert by_name["c1"].launches == 1 + by_name["c1"].kernel.startswith("im2col+")
    assert by_name["c1"].precision == "U8" and by_name["sm"].precision == "FP32"
    assert all(p.seconds > 0 for p in profile if p.where == "opencl")
    # a second run: the profile is that run's (the first run's events are released during it)
    executor.run({"x": x})
    assert [(p.name, p.launches) for p in executor.profile()] == [(p.name, p.launches) for p in profile]


def test_threads_share_one_plan(any_device):
    schedule = zoo(batch=1)
    plan = build_plan(schedule, any_device, "portable")
    executor = PlanExecutor(plan)
    rng = np.random.default_rng(5)
    inputs = [rng.standard_normal((1, 3, 17, 19)).astype(np.float32) for _ in range(6)]
    reference = Int8Executor(schedule)
    expected = [reference.run({"x": x}) for x in inputs]
    results: dict[int, dict] = {}

    def worker(i):
        results[i] = executor.run({"x": inputs[i]})

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, want in enumerate(expected):
        _outputs_close(results[i], want)


def test_second_build_compiles_nothing(any_device, tmp_path):
    schedule = zoo(batch=1)
    first = ProgramCache(tmp_path)
    build_plan(schedule, any_device, "portable", cache=first)
    assert first.compiled >= 1
    second = ProgramCache(tmp_path)  # a new process would start like this
    plan = build_plan(schedule, any_device, "portable", cache=second)
    assert second.compiled == 0 and second.loaded == len(plan.builder.groups)
    x = np.zeros((1, 3, 17, 19), np.float32)
    out = PlanExecutor(plan).run({"x": x})
    want = Int8Executor(schedule).run({"x": x})
    np.testing.assert_allclose(out["sm"], want["sm"], rtol=1e-5)


@pytest.mark.parametrize("layout_family", ["portable", "intel"])
def test_placements_follow_the_family(layout_family):
    from gpu_int8.scheduler.plan import assign_layouts

    placements = assign_layouts(zoo(), layout_family)
    expected = {"portable": "nhwc", "intel": "fsv16"}[layout_family]
    assert placements["c1"].layout == expected  # 4-D int8
    assert placements["x"].layout == "plain" and placements["a3"].layout == "plain"


@pytest.mark.parametrize("rows", [20, 70])
@pytest.mark.parametrize("local_bytes", [32 * 1024, 0], ids=["kv_local", "kv_global"])
def test_attention_with_its_quantizations_in_one_kernel(device_family, local_bytes, rows, monkeypatch):
    """PP-OCRv4 rec's attention: queries and keys dequantized from int8 (the queries through a
    program that rounds), float values, the output quantized; one ``plan_attention.cl``
    launch, integers as the reference's.  Keys and values staged in local memory per head, by
    work-groups of 16 query rows or (70 rows) of 64, the second in part; or read where they
    are stored."""
    import gpu_int8.scheduler.compile.float_ops as float_ops
    from tests.scheduler.schedules import ScheduleBuilder

    monkeypatch.setattr(float_ops, "ATTENTION_LOCAL_BYTES", local_bytes)
    device, family = device_family
    s = ScheduleBuilder("attention_q", seed=11)
    x = s.input("x", (3, rows, 12))
    q = s.quantize(x, "q", "i8", 0.05, 0)
    k = s.quantize(x, "k", "u8", 0.04, 130)
    v = s.op("float", "Sigmoid", [x], "v", [(3, rows, 12)], "f32")[0]
    qf = s.dequantize(q, "qf")
    s.steps[-1].epilogue[:0] = [["affine", "r", "z"], ["round", -128, 127]]  # requantized, then dequantized
    s.steps[-1].consts.update({"r": np.float32([0.8]), "z": np.float32([1.0])})
    kf = s.dequantize(k, "kf")
    att = s.op("float", "ScaledDotProductAttention", [qf, kf, v], "att", [(3, rows, 12)], "f32",
               {"causal": False, "opset": 13})[0]
    s.outputs.append(s.quantize(att, "y", "i8", 0.01, 3))
    schedule = s.build()
    x_value = np.random.default_rng(11).standard_normal((3, rows, 12)).astype(np.float32)
    plan = build_plan(schedule, device, family, 16)
    kernels = {sp.step.name: sp.kernel for sp in plan.steps}
    assert [kernels[n] for n in ("qf", "kf", "att", "y")] == ["fused", "fused", "fused", "attention_q"], kernels
    got, want = PlanExecutor(plan).run({"x": x_value}), Int8Executor(schedule).run({"x": x_value})
    np.testing.assert_array_equal(got["y"], want["y"])
    assert len(np.unique(want["y"])) > 20
    launch = [sp for sp in plan.steps if sp.step.name == "y"][0].actions[0]
    assert launch.local_size[0] == (16 if local_bytes == 0 or rows == 20 else 64), launch.local_size


def _split_heads_attention(seed: int, tail, batch: int = 1):
    """PP-OCRv4 rec's attention block: one float projection [1, L, 3 * H * D] split into heads by
    a Reshape, a Transpose and three Slices, the query and key slices quantized on their own
    and dequantized (the queries through a program that rounds again), the output quantized
    and carried on by the moves ``tail(builder, y)`` adds; ``batch`` images.  The schedule and an input."""
    from tests.scheduler.schedules import ScheduleBuilder

    s = ScheduleBuilder("split_heads", seed=seed)
    n = batch
    x = s.matmul(s.quantize(s.input("x", (n, 20, 12)), "xq", "u8", 0.02, 128), "proj", n_out=36, transpose_b=True)
    r = s.op("float", "Reshape", [x], "r", [(n, 20, 3, 2, 6)], "f32", {"special_zero": True, "opset": 1},
             [np.array([0, 0, 3, 2, 6], np.int64)])[0]
    t = s.op("float", "Transpose", [r], "t", [(3, n, 2, 20, 6)], "f32", {"opset": 1},
             [np.array([2, 0, 3, 1, 4], np.int64)])[0]
    parts = []
    for j, quant in enumerate([("i8", 0.2, 0), ("u8", 0.25, 128), None]):
        sl = s.op("float", "Slice", [t], f"sl{j}", [(1, n, 2, 20, 6)], "f32", {"opset": 8},
                  [np.array([v], np.int64) for v in (j, j + 1, 1, 0)])[0]
        if quant is None:  # the values stay float
            parts.append(_moved(s, "Squeeze", sl, "v", (n, 2, 20, 6), [0], "float"))
            continue
        q = s.quantize(sl, f"sq{j}", *quant)
        sq = _moved(s, "Squeeze", q, f"sz{j}", (n, 2, 20, 6), [0])
        parts.append(s.dequantize(sq, f"f{j}"))
        if j == 0:
            s.steps[-1].epilogue[:0] = [["affine", "r", "z"], ["round", -128, 127]]
            s.steps[-1].consts.update({"r": np.float32([0.8]), "z": np.float32([1.0])})
    att = s.op("float", "ScaledDotProductAttention", parts, "att", [(n, 2, 20, 6)], "f32",
               {"causal": False, "opset": 13})[0]
    s.outputs.append(tail(s, s.quantize(att, "y", "i8", 0.1, 3)))
    return s.build(), np.random.default_rng(seed).standard_normal((n, 20, 12)).astype(np.float32)


def _moved(s, op_type: str, x: str, name: str, shape: tuple, arg: list, kind: str = "move") -> str:
    """``op_type`` (Squeeze, Transpose, Reshape) of ``x`` to ``shape``, quantized as ``x``."""
    attrs = {"opset": 1, "special_zero": True} if op_type == "Reshape" else {"opset": 1}
    y = s.op(kind, op_type, [x], name, [shape], s.tensors[x].dtype, attrs, [np.array(arg, np.int64)])[0]
    s.tensors[y].scale, s.tensors[y].zero_point = s.tensors[x].scale, s.tensors[x].zero_point
    return y


def _heads_back(s, y: str) -> str:  # [N, H, L, D] -> [N, L, H, D] -> [N, L, H * D], as rec does
    n = s.shape(y)[0]
    return _moved(s, "Reshape", _moved(s, "Transpose", y, "back", (n, 20, 2, 6), [0, 2, 1, 3]), "out",
                  (n, 20, 12), [0, 0, 12])


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("local_bytes", [32 * 1024, 0], ids=["kv_local", "kv_global"])
def test_attention_reads_its_heads_through_the_moves(device_family, local_bytes, batch, monkeypatch):
    """The moves and quantizations between the projection and the attention, and the moves after
    it, run inside the attention's one launch: it reads each element where the moves take it
    from and stores where they put it; with two images, each image's heads an image apart (the
    batch and head axes, not one affine index).  The reference's integers, fused or step by step."""
    import gpu_int8.scheduler.compile.float_ops as float_ops

    monkeypatch.setattr(float_ops, "ATTENTION_LOCAL_BYTES", local_bytes)
    device, family = device_family
    schedule, x = _split_heads_attention(12, _heads_back, batch)
    plan = build_plan(schedule, device, family, 16)
    kernels = [sp.kernel for sp in plan.steps]
    first = [sp.step.name for sp in plan.steps].index("r")
    assert kernels[first:] == ["fused"] * (len(kernels) - first - 1) + ["attention_q"], kernels
    assert plan.steps[-1].step.inputs == ["proj"]
    want = Int8Executor(schedule).run({"x": x})
    np.testing.assert_array_equal(PlanExecutor(plan).run({"x": x})["out"], want["out"])
    np.testing.assert_array_equal(PlanExecutor(build_plan(schedule, device, family, 16, keep_all=True))
                                  .run({"x": x})["out"], want["out"])
    assert len(np.unique(want["out"])) > 20


def _regroup_then_swap(s, y):
    regrouped = _moved(s, "Reshape", y, "regroup", (1, 2, 10, 12), [0, 0, 10, 12])
    return _moved(s, "Reshape", _moved(s, "Transpose", regrouped, "swap", (1, 2, 12, 10), [0, 1, 3, 2]),
                  "out", (1, 20, 12), [1, 20, 12])


def _tiled(s, y):
    return _moved(s, "Tile", y, "out", (2, 2, 20, 6), [2, 1, 1, 1])


@pytest.mark.parametrize("tail, last", [(_regroup_then_swap, "regroup"), (_tiled, "y")], ids=["not_affine", "copies"])
def test_attention_stops_at_a_move_it_cannot_store_through(any_device, tail, last):
    """A Reshape that regroups a head's rows and columns ([20, 6] -> [10, 12]) is still affine in
    them; the Transpose after it is not (an output row's columns come from two input rows).  A
    Tile stores each output twice.  The group ends before such a move, which copies after it."""
    schedule, x = _split_heads_attention(13, tail)
    plan = build_plan(schedule, any_device, "portable", 16)
    kernels = {sp.step.name: sp.kernel for sp in plan.steps}
    assert kernels[last] == "attention_q" and kernels["out"] != "fused", kernels
    np.testing.assert_array_equal(PlanExecutor(plan).run({"x": x})["out"], Int8Executor(schedule).run({"x": x})["out"])


def test_mvn_kernels_take_the_same_sums(any_device, monkeypatch):
    """``mvn_rows`` (a work-item per row) stores the values ``mvn`` (a work-group per row) does:
    the same partial sums, added in the same order."""
    import gpu_int8.scheduler.compile.float_ops as float_ops

    schedule = zoo()
    x = np.random.default_rng(5).standard_normal((2, 3, 17, 19)).astype(np.float32)
    outputs = {}
    for rows_from in (1, 10**9):
        monkeypatch.setattr(float_ops, "MVN_ROWS_PER_ITEM_FROM", rows_from)
        plan = build_plan(schedule, any_device, "portable", 16)
        launched = {sp.step.name: sp.actions[0].kernel.name for sp in plan.steps if sp.step.name.startswith("mvn")}
        assert all(("mvn_rows" in name) == (rows_from == 1) for name in launched.values()), launched
        outputs[rows_from] = PlanExecutor(plan).run({"x": x})
    for name in ("mvn", "mvn2"):
        np.testing.assert_array_equal(outputs[1][name], outputs[10**9][name], err_msg=name)


def test_heads_quantized_out_of_a_float_tensor_stay_plain(any_device):
    """PP-OCRv4 rec's attention heads: sliced out of a float tensor, quantized, squeezed and
    dequantized.  No spatial step touches them, so they stay plain and the Squeeze is a view;
    a tensor a move connects to a convolution's output takes the family's layout."""
    from gpu_int8.scheduler.plan import assign_layouts
    from tests.scheduler.schedules import ScheduleBuilder

    i64 = np.int64
    s = ScheduleBuilder("heads", seed=3)
    x = s.input("x", (1, 4, 6, 5))
    head = s.quantize(x, "head", "i8", 0.04, 0)
    c = s.conv(s.quantize(x, "q", "u8", 0.03, 120), "c", 4, k=1)
    moves = {"squeezed": s.op("move", "Reshape", [head], "squeezed", [(4, 6, 5)], "i8", {"special_zero": False},
                              [np.array([4, 6, 5], i64)])[0],
             "t": s.op("move", "Transpose", [c], "t", [(1, 4, 5, 6)], "u8", {}, [np.array([0, 1, 3, 2], i64)])[0]}
    for moved, source in zip(moves.values(), (head, c), strict=True):  # the moves keep their input's quantization
        s._tensor(moved, s.shape(moved), s.tensors[source].dtype, s.tensors[source].scale,
                  s.tensors[source].zero_point)
        s.outputs.append(s.dequantize(moved, f"{moved}_f"))
    schedule = s.build()
    placements = assign_layouts(schedule, "portable")
    assert placements["head"].layout == "plain"
    assert placements["c"].layout == placements["t"].layout == "nhwc"
    plan = build_plan(schedule, any_device, "portable")
    assert {sp.step.name: sp.kernel for sp in plan.steps}["squeezed"] == "alias"
    x_value = np.random.default_rng(3).standard_normal((1, 4, 6, 5)).astype(np.float32)
    got, want = PlanExecutor(plan).run({"x": x_value}), Int8Executor(schedule).run({"x": x_value})
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_model_names_cannot_inject_source():
    from gpu_int8.scheduler.compile.program import ProgramBuilder

    builder = ProgramBuilder(None, ["-cl-std=CL1.2"])
    builder.current_step = "conv\n#error injected */ //"
    builder.instance("__kernel void k(__global int *y) { y[0] = V; }", {"V": 3})
    (source,) = builder.sources().values()
    assert not any(line.lstrip().startswith("#error") for line in source.splitlines())
    assert "\n#define V 3\n" in source
    assert "#define k k__" in source  # the kernel is renamed per instance


def test_grouped_instances_build_as_programs_of_their_own(any_device, tmp_path):
    """Instances naming a group share a program apart (with the shared build options); the
    others share one program, and every kernel computes."""
    import pyopencl as cl

    from gpu_int8.scheduler.compile.program import ProgramBuilder
    from gpu_int8.scheduler.program_cache import ProgramCache

    builder = ProgramBuilder(any_device, ["-cl-std=CL1.2"])
    src = "__kernel void k(__global int *y) { y[get_global_id(0)] = V; }"
    refs = [builder.instance(src, {"V": v}, group="" if v < 3 else f"g{v % 2}")["k"] for v in (1, 2, 3, 4, 5)]
    sources = builder.sources()
    assert len(sources) == 3  # V=1 and V=2 together, V=3 and V=5 in g1, V=4 in g0
    builder.build(ProgramCache(tmp_path))
    buf = any_device.allocator.alloc(4)
    for v, ref in zip((1, 2, 3, 4, 5), refs):
        ref.prepare(buf, global_size=(1,)).enqueue(wait=True)
        out = np.zeros(1, np.int32)
        cl.enqueue_copy(any_device.queue, out, buf, is_blocking=True)
        assert out[0] == v


class _DescribedAsGpu:
    """Intel's CPU runtime described as an Iris Xe (a GPU with dp4a): the plan a GPU gets,
    run where no GPU is, so its GPU-only choices are checked against the reference too."""

    def __init__(self, device):
        import dataclasses

        self._device = device
        self.info = dataclasses.replace(device.info, kind="gpu", feature_caps_intel=1)

    def __getattr__(self, name):
        return getattr(self._device, name)


def test_the_plan_a_gpu_gets_matches_reference():
    from gpu_int8.scheduler.selection import select_device
    from tests.cl_devices import cl_device_for

    device = _DescribedAsGpu(cl_device_for("intel-cpu"))
    choice = select_device("auto", devices=[device.info])
    assert choice.family == "intel"
    schedule = zoo()
    x = np.random.default_rng(1).standard_normal((2, 3, 17, 19)).astype(np.float32)
    plan = build_plan(schedule, device, choice.family, choice.subgroup_size, keep_all=True)
    kernels = {sp.step.name: sp.kernel for sp in plan.steps}
    assert kernels["fc"] == "matmul_rows" and kernels["mt"] == "transpose+matmul_rows", \
        "constant-weight MatMuls leave the portable GEMM, whose register tile spills on GPUs"
    executor = PlanExecutor(plan)
    executor.run({"x": x})
    assert len(compare_all(plan, executor, Int8Executor(schedule).run({"x": x}, keep_all=True))) >= 25


def test_matmul_row_chunks():
    """Outputs per work-item of plan_matmul_rows.cl: 8 (one vector), whole short rows, and where
    work-items stay apart as many vectors of 8 as divide the row, up to 64 (the zoo's mw, 24 wide,
    runs that way on Intel's CPU runtime and matches the reference)."""
    def chunk(n, apart):
        a, b, y = Placement((2, 5, 7), "u8"), Placement((2, 7, n), "i8"), Placement((2, 5, n), "i8")
        return row_chunk(a, b, y, apart)

    assert [chunk(n, False) for n in (8, 24, 120, 15, 17)] == [8, 8, 8, 15, None]
    assert [chunk(n, True) for n in (8, 24, 120, 128, 15, 17)] == [8, 24, 40, 64, 15, None]


def test_transposed_operand_read_where_it_is_stored(device_family):
    """PP-OCRv4 rec's last MatMul reads A^T, A a Squeeze of a convolution's [1, C, 1, L] output:
    where the convolution stores NHWC, A^T's rows are its bytes as stored, so the MatMul reads
    an alias of them and neither the Squeeze nor the transpose copies.  Where they are not (the
    Squeeze of a plain tensor), both copy as before.  The reference's values either way."""
    from tests.scheduler.schedules import ScheduleBuilder

    device, family = device_family
    s = ScheduleBuilder("rows", seed=14)
    q = s.quantize(s.input("x", (1, 24, 1, 40)), "q", "u8", 0.03, 120)
    c = s.conv(q, "c", 48, k=1, dtype="i8")
    sq = s.op("move", "Squeeze", [c], "sq", [(1, 48, 40)], "i8", {"opset": 1}, [np.array([2], np.int64)])[0]
    s.tensors[sq].scale, s.tensors[sq].zero_point = s.tensors[c].scale, s.tensors[c].zero_point
    s.outputs.append(s.matmul(sq, "mm", n_out=30, transpose_a=True))
    q3 = s.quantize(s.input("z", (1, 48, 40)), "q3", "i8", 0.05, 0)
    sq3 = s.op("move", "Squeeze", [q3], "sq3", [(48, 40)], "i8", {"opset": 1}, [np.array([0], np.int64)])[0]
    s.tensors[sq3].scale, s.tensors[sq3].zero_point = s.tensors[q3].scale, s.tensors[q3].zero_point
    s.outputs.append(s.matmul(sq3, "mm3", n_out=30, transpose_a=True))
    schedule = s.build()
    rng = np.random.default_rng(14)
    feeds = {"x": rng.standard_normal((1, 24, 1, 40)).astype(np.float32),
             "z": rng.standard_normal((1, 48, 40)).astype(np.float32)}
    plan = build_plan(schedule, device, family, 16)
    kernels = {sp.step.name: sp.kernel for sp in plan.steps}
    got, want = PlanExecutor(plan).run(feeds), Int8Executor(schedule).run(feeds)
    _outputs_close(got, want)
    assert len(np.unique(want["mm"])) > 200
    nhwc = plan.placements["c"].layout == "nhwc"
    assert (kernels["sq"] == "fused") == nhwc and kernels["mm"].startswith("transpose+") != nhwc, kernels
    assert kernels["sq3"] != "fused" and kernels["mm3"].startswith("transpose+"), kernels
