"""An LRN with the quantization after it (and the dequantization before it) as one kernel
(a group of ``compile/float_groups.py``): ``cl_kernels/plan_lrn_q.cl`` reads the int8 (or
float) input, takes the LRN and stores the next layer's integers, the int8 reference's
exactly.  A convolution's float output that only a group reads is stored NHWC for it
(:func:`nhwc_inputs`), where the convolution kernels store it fastest.  On Intel's CPU runtime
``cl_kernels/plan_lrn_q_rows.cl`` takes 16 channels of an NHWC pixel per work-item instead
(:func:`_rows_launch`; GoogLeNet's two LRNs 0.38 -> 0.17 ms).
"""

from __future__ import annotations

import numpy as np

from gpu_int8.ops.op_lrn import LRN
from gpu_int8.ops.reduce_common import normalize_axes
from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.actions import Launch
from gpu_int8.scheduler.compile.context import CompileContext, step_epilogue, store_expr, wide_1d
from gpu_int8.scheduler.compile.indexing import Placement
from gpu_int8.scheduler.epilogue_codegen import float_literal
from gpu_int8.scheduler.program_cache import kernel_source

#: the float-first LRN's error bound, relative (see ``cl_kernels/plan_lrn_q.cl``); lanes whose
#: interval of that width straddles a rounding step are taken again in double
SPREAD = 2.0**-18

#: epilogue instructions whose programs are monotonic in y (what the kernel's FAST path needs)
_MONOTONIC = {"affine", "round"}
_MONOTONIC_ACTS = {"relu", "clamp"}


def _monotonic(program: list) -> bool:
    return bool(program) and all(ins[0] in _MONOTONIC or (ins[0] == "act" and ins[1] in _MONOTONIC_ACTS)
                                 for ins in program)


def _lrn_over_channels(step: Step, schedule: Schedule) -> bool:
    args = step.attrs.get("args", [])
    if step.kind != "float" or step.op_type != "LRN" or len(args) != 2 or any(a is None for a in args) \
            or args[0][0] != "t" or args[1][0] != "c" or len(step.outputs) != 1:
        return False
    shape = schedule.tensors[args[0][1]].shape
    try:
        axes = normalize_axes(step.consts[args[1][1]], len(shape))
    except (ValueError, TypeError):
        return False
    return len(shape) == 4 and list(axes) == [1] and int(LRN.attr(step.op_node, "size")) >= 1 \
        and 0 < int(np.prod(shape, dtype=np.int64)) < 2**31


def lrn_fits(lrn: Step, quant: Step, deq: Step | None, schedule: Schedule) -> bool:
    """An LRN over the channels of a 4-D tensor, quantized by a monotonic program (what the
    kernel's float-first path needs), per tensor or per channel."""
    return _lrn_over_channels(lrn, schedule) and quant.axis in (None, 1) and _monotonic(quant.epilogue) \
        and (deq is None or deq.axis in (None, 1))


def nhwc_inputs(schedule: Schedule, groups: dict[int, list[int]], placements: dict[str, Placement]) -> None:
    """Stores NHWC the float input of each LRN group that a convolution writes and the group
    alone reads."""
    writers = {name: step for step in schedule.steps for name in step.outputs}
    for members in groups.values():
        first = schedule.steps[members[0]]
        if schedule.steps[members[-2]].op_type != "LRN":
            continue
        name = first.inputs[0]
        p = placements[name]
        if first.kind == "float" and p.dtype == "f32" and getattr(writers.get(name), "kind", None) == "conv":
            placements[name] = Placement(p.shape, p.dtype, "nhwc")


def _float_first(extensions, alpha: float, beta: float, bias: float) -> bool:
    """Whether the kernel takes the LRN in float first: its error bound holds for positive terms
    and the two square roots of beta 0.75; the exact value needs doubles, and the branch to it
    a sub-group vote (with a per-work-item branch, Intel's CPU runtime ran both paths: 2x slower)."""
    return "cl_khr_fp64" in extensions and "cl_intel_subgroups" in extensions and beta == 0.75 \
        and alpha >= 0 and bias > 0


def compile_lrn_group(ctx: CompileContext, steps: list[Step]) -> Launch | None:
    """The group's ``plan_lrn_q.cl`` launch, or None where the kernel does not apply."""
    deq = steps[0] if len(steps) == 3 else None
    lrn, quant = steps[-2], steps[-1]
    x_name, y_name = steps[0].inputs[0], quant.outputs[0]
    x_p, y_p = ctx.placement(x_name), ctx.placement(y_name)
    mid_p = ctx.placement(lrn.inputs[0])
    if x_p.dtype not in ("u8", "i8", "f32") or y_p.dtype not in ("u8", "i8") or y_p.shape != x_p.shape:
        return None
    n, c, h, w = x_p.shape
    node = lrn.op_node
    size = int(LRN.attr(node, "size"))
    alpha, beta, bias = LRN.attr(node, "alpha") / size, LRN.attr(node, "beta"), LRN.attr(node, "bias")
    quant_code = step_epilogue(quant, y_p, "lq")
    defines = {
        "C": c, "HALF": (size - 1) // 2, "X_T": x_p.cl_type, "Y_T": y_p.cl_type,
        "QUANT(y,c)": quant_code.call("(y)", "(c)", "kq", {}),
        "STORE(y)": store_expr(y_p.dtype, "(y)", program=quant.epilogue),
        "ALPHA": float_literal(alpha), "ALPHA64": float(alpha).hex(), "BETA": float_literal(beta),
        "BIAS": float_literal(bias), "BETA_3_4": int(beta == 0.75),
    }
    fast = _float_first(ctx.device.info.extensions, alpha, beta, bias)
    if fast:
        rows = _rows_launch(ctx, steps, quant_code, defines)
        if rows is not None:
            return rows
    defines.update({"H": h, "W": w, "NHW": n * h * w, "X_OFF(n,c,h,w)": x_p.offset(["n", "c", "h", "w"]),
                    "Y_OFF(n,c,h,w)": y_p.offset(["n", "c", "h", "w"]),
                    "FAST": int(fast)})
    prelude = quant_code.source
    buffers = [("b", ctx.epilogue_buffer(quant_code))]
    if deq is not None:
        deq_code = step_epilogue(deq, mid_p, "ld")
        defines["DEQ(v,c)"] = deq_code.call("(v)", "(c)", "kd", {})
        prelude += deq_code.source
        buffers.insert(0, ("b", ctx.epilogue_buffer(deq_code)))
    else:
        defines["DEQ(v,c)"] = "(v)"
        buffers.insert(0, ("b", ctx.dummy_buffer()))
    refs = ctx.builder.instance(kernel_source("plan_lrn_q.cl"), defines, prelude=prelude)
    # a work-group takes up to 64 channels of several pixels: one pixel a group left Intel's
    # CPU runtime dispatching 9408 groups for GoogLeNet's second LRN (0.33 ms; 0.21 with 16 pixels)
    group = next(g for g in (64, 32, 16) if c % g == 0) if c % 16 == 0 else min(64, -(-c // 16) * 16)
    rows = max(1, min(16, min(512, ctx.device.info.max_work_group_size) // group))
    return Launch(refs["lrn_q"], [("t", y_name), ("t", x_name), *buffers],
                  (-(-c // group) * group, -(-n * h * w // rows) * rows), (group, rows), "lrn_q")


def _rows_launch(ctx: CompileContext, steps: list[Step], quant_code, defines: dict) -> Launch | None:
    """``cl_kernels/plan_lrn_q_rows.cl`` where it applies (the float-first path already chosen):
    Intel's CPU runtime, NHWC in and out, channels a multiple of 16, a window under 33 channels,
    and a dequantization (if any) per tensor.  ``quant_code`` is the one-value quantization;
    its 16-lane form reads the same constants, from the same buffer."""
    deq = steps[0] if len(steps) == 3 else None
    quant = steps[-1]
    x_name, y_name = steps[0].inputs[0], quant.outputs[0]
    x_p, y_p = ctx.placement(x_name), ctx.placement(y_name)
    n, c, h, w = x_p.shape
    if not (ctx.device.info.keeps_work_items_apart and x_p.layout == y_p.layout == "nhwc"
            and c % 16 == 0 and defines["HALF"] < 16 and (deq is None or deq.axis is None)):
        return None
    quant_v = step_epilogue(quant, y_p, "lqv", width=16)
    if not np.array_equal(quant_v.consts, quant_code.consts):
        return None
    prelude = quant_v.source + quant_code.source
    kd = ctx.dummy_buffer()
    rows = {**defines, "CB": c // 16, "COUNT": n * h * w * c // 16, "DEQV(v)": "(v)", "SPREAD": float_literal(SPREAD),
            "QUANTV(y,c)": quant_v.call("(y)", "(c)", "kq", {}),
            "STOREV(y)": store_expr(y_p.dtype, "(y)", 16, quant.epilogue)}
    if deq is not None:
        deq_v = step_epilogue(deq, ctx.placement(deq.outputs[0]), "ldv", width=16)
        rows["DEQV(v)"] = deq_v.call("(v)", "0", "kd", {})
        prelude += deq_v.source
        kd = ctx.epilogue_buffer(deq_v)
    refs = ctx.builder.instance(kernel_source("plan_lrn_q_rows.cl"), rows, prelude=prelude)
    gsize, lsize = wide_1d(ctx, rows["COUNT"])
    return Launch(refs["lrn_q_rows"], [("t", y_name), ("t", x_name), ("b", kd), ("b", ctx.epilogue_buffer(quant_v))],
                  gsize, lsize, "lrn_q_rows")
