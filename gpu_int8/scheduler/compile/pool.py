"""Pooling steps on stored integers: MaxPool (a move step), AvgPool and ReduceMean
(integer sums, then the epilogue), from ``cl_kernels/plan_pool.cl`` and
``cl_kernels/plan_reduce.cl``."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import get_op
from gpu_int8.schedule import Step
from gpu_int8.scheduler.compile.actions import Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, global_1d, step_epilogue, store_expr, wide_1d
from gpu_int8.scheduler.compile.eltwise import coords_macro
from gpu_int8.scheduler.compile.indexing import Placement, decompose_row_major
from gpu_int8.scheduler.layouts import BLOCK
from gpu_int8.scheduler.program_cache import kernel_source


def _xoff(x) -> str:
    return x.offset(["n", "c", "h", "w"])


def compile_max_pool(ctx: CompileContext, step: Step) -> StepPlan | None:
    x_name, y_name = step.inputs[0], step.outputs[0]
    xp, yp = ctx.placement(x_name), ctx.placement(y_name)
    if len(xp.shape) != 4 or xp.dtype not in ("u8", "i8") or yp.dtype != xp.dtype:
        return None
    if any(o in ctx.used for o in step.outputs[1:]):
        return None  # the indices output is read: the host computes it
    op = get_op("MaxPool")
    kernel, strides, dilations, pb, pe, out = op._geometry(step.op_node, xp.shape)
    if tuple(out) != tuple(yp.shape[2:]):
        return None
    defines = _geometry_defines(xp, yp, kernel, strides, dilations, pb, pe)
    vector = _max_pool_vec(ctx, step, xp, yp, defines)
    if vector is not None:
        return vector
    body, skip, names = coords_macro(yp)
    defines.update({
        "MODE": 0, "COORDS(IDX)": body + f" const int n = {names[0]}, c = {names[1]}, oh = {names[2]}, "
                                         f"ow = {names[3]};",
        "SKIP": f"({skip})", "LOWEST": int(np.iinfo(xp.np_dtype).min), "FILL": 0, "EXCLUDE_PAD": 0,
        "EPI(y)": "(y)", "STORE(y)": "(y)",
    })
    refs = ctx.builder.instance(kernel_source("plan_pool.cl"), defines)
    gsize, lsize = wide_1d(ctx, yp.physical_size)
    launch = Launch(refs["pool"], [("t", y_name), ("t", x_name), ("b", ctx.dummy_buffer())],
                    gsize, lsize, "max_pool")
    return StepPlan(step, "max_pool", "opencl", [launch])


#: outputs along a row per work-item of the nhwc max pool
ROW_OUTPUTS = 8


def _max_pool_vec(ctx: CompileContext, step: Step, xp, yp, defines: dict) -> StepPlan | None:
    """``cl_kernels/plan_max_pool_rows.cl`` where 16, 8 or 4 channels of a pixel are contiguous in
    both nhwc tensors (GoogLeNet's thirteen pools 0.208 -> 0.111 ms; ShuffleNet's 24 channels at
    112x112 take 8 at a time), ``plan_max_pool_vec.cl`` for fsv16 (its padding channels are
    pooled like the others)."""
    if xp.layout != yp.layout or xp.shape[1] != yp.shape[1]:
        return None
    n, c, h, w = yp.shape
    _, _, ih, iw = xp.shape
    defines = {k: v for k, v in defines.items() if k not in ("Y_T", "COUNT", "X_OFF(n,c,h,w)", "PEH", "PEW")}
    defines["LOWEST"] = int(np.iinfo(xp.np_dtype).min)
    if xp.layout == "nhwc" and c % 4 == 0:
        vw = next(v for v in (BLOCK, 8, 4) if c % v == 0)
        tiles = -(-w // ROW_OUTPUTS)
        count = n * h * tiles * (c // vw)
        defines.update({"VW": vw, "C": c, "CB": c // vw, "OH": h, "OW": w, "TW": ROW_OUTPUTS, "TILES": tiles,
                        "COUNT": count})
        source, kernel = "plan_max_pool_rows.cl", "max_pool_rows"
    elif xp.layout == "fsv16":
        vw, cb = BLOCK, -(-c // BLOCK)
        count = n * cb * h * w
        coords = decompose_row_major("i", ["n", "cb", "oh", "ow"], (n, cb, h, w))
        x_voff = f"(((((n) * {cb} + (cb)) * {ih} + (h)) * {iw} + (w)) * {BLOCK})"
        defines.update({"VW": vw, "COUNT": count, "COORDS(i)": " ".join(coords), "X_VOFF(n,cb,h,w)": x_voff})
        source, kernel = "plan_max_pool_vec.cl", "max_pool_vec"
    else:
        return None
    refs = ctx.builder.instance(kernel_source(source), defines)
    gsize, lsize = wide_1d(ctx, count)
    label = f"max_pool{vw}"
    launch = Launch(refs[kernel], [("t", step.outputs[0]), ("t", step.inputs[0])], gsize, lsize, label)
    return StepPlan(step, label, "opencl", [launch])


def _geometry_defines(xp, yp, kernel, strides, dilations, pb, pe) -> dict:
    kernel, strides, dilations, pb, pe = ([int(v) for v in a] for a in (kernel, strides, dilations, pb, pe))
    return {"X_T": xp.cl_type, "Y_T": yp.cl_type, "COUNT": yp.physical_size,
            "X_OFF(n,c,h,w)": _xoff(xp), "IH": xp.shape[2], "IW": xp.shape[3],
            "KH": kernel[0], "KW": kernel[1], "SH": strides[0], "SW": strides[1],
            "PH": pb[0], "PW": pb[1], "DH": dilations[0], "DW": dilations[1], "PEH": pe[0], "PEW": pe[1]}


def compile_avg_pool(ctx: CompileContext, step: Step) -> StepPlan | None:
    x_name, y_name = step.inputs[0], step.outputs[0]
    xp, yp = ctx.placement(x_name), ctx.placement(y_name)
    a = step.attrs
    if len(xp.shape) != 4 or xp.dtype not in ("u8", "i8") or len(a["kernel"]) != 2:
        return None
    body, skip, names = coords_macro(yp)
    cv = _channel_vector(ctx, step, xp, yp, [2, 3], True)
    defines = _geometry_defines(xp, yp, a["kernel"], a["strides"], (1, 1), a["pads_begin"], a["pads_end"])
    rows = _avg_pool_rows(ctx, step, xp, yp, cv, defines)
    if rows is not None:
        return rows
    code, epilogue = _mean_epilogue(step, yp, names, cv)
    if code.inputs:
        return None
    defines.update({
        "MODE": 1, "CV": cv, "COORDS(IDX)": body + f" const int n = {names[0]}, c = {names[1]}, oh = {names[2]}, "
                                         f"ow = {names[3]};",
        "SKIP": f"({skip})", "LOWEST": 0, "FILL": 0 if a["exclude_pad"] else int(a["pad_value"]),
        "EXCLUDE_PAD": int(bool(a["exclude_pad"])), **epilogue,
    })
    refs = ctx.builder.instance(kernel_source("plan_pool.cl"), defines, prelude=code.source)
    gsize, lsize = wide_1d(ctx, yp.physical_size // cv)
    launch = Launch(refs["pool"], [("t", y_name), ("t", x_name), ("b", ctx.epilogue_buffer(code))],
                    gsize, lsize, "avg_pool")
    return StepPlan(step, "avg_pool", "opencl", [launch])


#: outputs along a row per work-item of the nhwc average pool
AVG_ROW_OUTPUTS = 16


def _avg_pool_rows(ctx: CompileContext, step: Step, xp, yp, cv: int, defines: dict) -> StepPlan | None:
    """``cl_kernels/plan_avg_pool_rows.cl``, where ``cv`` channels of a pixel are contiguous in both
    nhwc tensors: :data:`AVG_ROW_OUTPUTS` outputs of a row, ``cv`` channels per work-item."""
    if cv == 1 or not xp.layout == yp.layout == "nhwc" or xp.shape[1] != yp.shape[1]:
        return None
    code, epilogue = _mean_epilogue(step, yp, ["n", "c", "oh", "ow"], cv)
    if code.inputs:
        return None
    n, c, h, w = yp.shape
    a = step.attrs
    tiles = -(-w // AVG_ROW_OUTPUTS)
    count = n * h * tiles * (c // cv)
    defines = {k: v for k, v in defines.items() if k not in ("COUNT", "X_OFF(n,c,h,w)", "DH", "DW")}
    defines.update({"CV": cv, "C": c, "CB": c // cv, "OH": h, "OW": w, "TW": AVG_ROW_OUTPUTS, "TILES": tiles,
                    "COUNT": count, "FILL": 0 if a["exclude_pad"] else int(a["pad_value"]),
                    "EXCLUDE_PAD": int(bool(a["exclude_pad"])), **epilogue})
    refs = ctx.builder.instance(kernel_source("plan_avg_pool_rows.cl"), defines, prelude=code.source)
    gsize, lsize = wide_1d(ctx, count)
    launch = Launch(refs["avg_pool_rows"], [("t", step.outputs[0]), ("t", step.inputs[0]),
                                            ("b", ctx.epilogue_buffer(code))], gsize, lsize, "avg_pool_rows")
    return StepPlan(step, "avg_pool_rows", "opencl", [launch])


def compile_reduce_mean(ctx: CompileContext, step: Step) -> StepPlan | None:
    x_name, y_name = step.inputs[0], step.outputs[0]
    xp, yp = ctx.placement(x_name), ctx.placement(y_name)
    if xp.dtype not in ("u8", "i8"):
        return None
    rank = len(xp.shape)
    axes = sorted({int(a) % rank for a in step.attrs["axes"]})
    keep = bool(step.attrs["keep_dims"])
    body, skip, names = coords_macro(yp)
    in_coords, loops, j = [], [], 0
    for axis in range(rank):
        if axis in axes:
            in_coords.append(f"r{axis}")
            # unrolled, these loops cost Intel's compiler over a second per kernel for no speed
            loops.append(f'_Pragma("unroll 1") for (int r{axis} = 0; r{axis} < {xp.shape[axis]}; ++r{axis}) {{')
            if keep:
                j += 1
        else:
            in_coords.append(names[j])
            j += 1
    count = int(np.prod([xp.shape[a] for a in axes], dtype=np.int64))
    cv = _channel_vector(ctx, step, xp, yp, axes, keep)
    code, epilogue = _mean_epilogue(step, yp, names, cv)
    if code.inputs:
        return None
    defines = {
        "X_T": xp.cl_type, "Y_T": yp.cl_type, "COUNT": yp.physical_size, "COORDS(IDX)": body,
        "SKIP": f"({skip})", "LOOPS": " ".join(loops), "LOOPS_END": "}" * len(loops),
        "X_OFF": xp.offset(in_coords), "COUNT_R": count, "CV": cv, **epilogue,
    }
    refs = ctx.builder.instance(kernel_source("plan_reduce.cl"), defines, prelude=code.source)
    # channel vectors kept apart: work-groups of one, so that few of them still spread over the
    # cores (PP-OCRv4 det's mean over 96 x 160 x 160 is six, which one group kept on one core)
    gsize, lsize = global_1d(yp.physical_size // cv, 1 if cv > 1 else 16)
    launch = Launch(refs["reduce_mean"], [("t", y_name), ("t", x_name), ("b", ctx.epilogue_buffer(code))],
                    gsize, lsize, "reduce_mean")
    return StepPlan(step, "reduce_mean", "opencl", [launch])


def _mean_epilogue(step: Step, yp: Placement, names: list[str], cv: int) -> tuple:
    """The step's epilogue for the pooling kernels: its code (whose constants the launch passes)
    and the macros calling it, ``EPI``/``STORE`` on one value or, with CV > 1 channels per
    work-item, ``EPIV``/``STOREV`` on CV lanes from channel ``c`` on."""
    channel = "0" if step.axis is None else names[step.axis]
    if cv == 1:
        code = step_epilogue(step, yp)
        return code, {"EPI(y)": code.call("y", channel, "k", {}),
                      "STORE(y)": store_expr(yp.dtype, "y", program=step.epilogue)}
    code = step_epilogue(step, yp, f"ev{cv}", width=cv)
    return code, {"EPIV(y)": code.call("(y)", channel, "k", {}),
                  "STOREV(y)": store_expr(yp.dtype, "(y)", cv, step.epilogue)}


def _channel_vector(ctx: CompileContext, step: Step, xp: Placement, yp: Placement, axes: list[int],
                    keep: bool) -> int:
    """Channels per work-item of ``plan_reduce.cl`` / ``plan_pool.cl`` (CV): 16 or 8 on Intel's
    CPU runtime, for an NHWC input pooled over rows and/or columns only, channels a multiple of
    CV, an output that keeps channels innermost (NHWC, or plain [N, C]) and an epilogue whose
    constants are per channel or per tensor (its lanes read CV consecutive ones); else 1."""
    info = ctx.device.info
    if (not info.keeps_work_items_apart or xp.layout != "nhwc" or 1 in axes or 0 in axes
            or step.axis not in (None, 1)):
        return 1
    if not (yp.layout == "nhwc" or (not keep and yp.shape == xp.shape[:2])):
        return 1
    return next((cv for cv in (16, 8) if xp.shape[1] % cv == 0), 1)
