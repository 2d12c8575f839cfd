"""MatMul steps.

* ``[..., M, K] x [K, N]`` with constant int8 weights runs on CPUs on the family GEMM (a
  1x1 convolution over M one-pixel images, plain row-major operands); on GPUs, where that
  GEMM's register tile spills, as rows (below).
* Row-major operands without transposes (attention's two int8 activations, batched)
  run ``cl_kernels/plan_matmul_rows.cl``: 8 outputs of a row per work-item (up to 64 where
  work-items stay apart, on Intel's CPU runtime; see ``row_chunk``).
* Everything else (transposed operands, other layouts, rows of other widths) runs
  ``cl_kernels/plan_matmul.cl``, one output per work-item.

Each inlines the step's epilogue."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_int8.schedule import Step
from gpu_int8.scheduler.compile.actions import Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, extra_args, global_1d, step_epilogue, store_expr
from gpu_int8.scheduler.compile.conv import family_launches
from gpu_int8.scheduler.compile.eltwise import coords_macro
from gpu_int8.scheduler.compile.indexing import Placement
from gpu_int8.scheduler.compile.move import copy_box_launch
from gpu_int8.scheduler.conv_geometry import ConvGeometry
from gpu_int8.scheduler.move_maps import box_of
from gpu_int8.scheduler.program_cache import kernel_source


def compile_matmul(ctx: CompileContext, step: Step) -> StepPlan | None:
    a_name, y_name = step.inputs[0], step.outputs[0]
    a_p, y_p = ctx.placement(a_name), ctx.placement(y_name)
    ta, tb = bool(step.attrs.get("transpose_a")), bool(step.attrs.get("transpose_b"))
    const_w = "w" in step.consts
    b_shape = np.asarray(step.consts["w"]).shape if const_w else ctx.placement(step.inputs[1]).shape
    if len(a_p.shape) < 2 or len(b_shape) < 2 or a_p.dtype not in ("u8", "i8"):
        return None
    if const_w and len(b_shape) == 2 and a_p.layout == y_p.layout == "plain" \
            and step.axis in (None, len(y_p.shape) - 1):
        w = np.asarray(step.consts["w"]).astype(np.int8)
        w_nk = w if tb else w.T  # [N, K]
        before = []
        if ta:  # the GEMM reads rows of A: copy A^T first
            a_name, a_p, before = transposed_copy(ctx, step, a_name, a_p)
        w_p = Placement(w_nk.T.shape, "i8")
        if ctx.device.info.is_gpu and row_chunk(a_p, w_p, y_p):
            # the portable GEMM's 6x16 register tile spills on GPUs (ocloc for Iris Xe: 4.8-6 KB);
            # rows of 8 outputs do not, and the GPU compiler gives their dot products dp4a
            rows = row_matmul(ctx, step, a_name, a_p, ("b", ctx.const(np.ascontiguousarray(w_nk.T))), w_p)
            return StepPlan(step, ("transpose+" if ta else "") + rows.kernel, "opencl", before + rows.actions)
        if not ctx.device.info.is_gpu:
            m = int(np.prod(a_p.shape[:-1]))
            geom = ConvGeometry.matmul(m, w_nk.shape[1], w_nk.shape[0])
            found = family_launches(ctx, step, "portable", geom, np.ascontiguousarray(w_nk)[:, :, None, None],
                                    a_name, a_p, y_name, y_p)
            if found is not None:
                label = ("transpose+" if ta else "") + found[0].replace("conv_gemm", "gemm")
                return StepPlan(step, label, "opencl", before + found[1])
        ctx.scratch.pop(a_name, None)
    return generic_matmul(ctx, step, const_w, b_shape, ta, tb)


def transposed_copy(ctx: CompileContext, step: Step, a_name: str, a_p: Placement) -> tuple[str, Placement, list]:
    """A plan-internal copy of ``a`` with its last two axes swapped, and the launch making it."""
    shape = a_p.shape[:-2] + (a_p.shape[-1], a_p.shape[-2])
    index = np.swapaxes(np.arange(a_p.size, dtype=np.int64).reshape(a_p.shape), -1, -2).reshape(-1)
    box = box_of(index, shape)
    t_p = Placement(shape, a_p.dtype)
    t_name = ctx.add_scratch(f"{step.name}/a_t", t_p)
    return t_name, t_p, [copy_box_launch(ctx, a_p.np_dtype.itemsize, box, t_name, a_name)]


def generic_matmul(ctx: CompileContext, step: Step, const_w: bool, b_shape, ta: bool, tb: bool) -> StepPlan:
    a_name, y_name = step.inputs[0], step.outputs[0]
    a_p, y_p = ctx.placement(a_name), ctx.placement(y_name)
    if const_w:
        b_arg = ("b", ctx.const(np.ascontiguousarray(np.asarray(step.consts["w"]).astype(np.int8))))
        b_p = Placement(tuple(b_shape), "i8")
    else:
        b_arg, b_p = ("t", step.inputs[1]), ctx.placement(step.inputs[1])
    rows = None if ta or tb else row_matmul(ctx, step, a_name, a_p, b_arg, b_p)
    if rows is not None:
        return rows
    body, skip, names = coords_macro(y_p)
    batch, m, n = names[:-2], names[-2], names[-1]
    batch_shape = y_p.shape[:-2]
    a_coords = batch + (["(kk)", m] if ta else [m, "(kk)"])
    b_coords = batch + ([n, "(kk)"] if tb else ["(kk)", n])
    kdim = a_p.shape[-2] if ta else a_p.shape[-1]
    code = step_epilogue(step, y_p)
    channel = names[step.axis] if step.axis is not None else "0"
    values = {k: f"(float)in{k}[{ctx.placement(step.inputs[k]).offset(names, y_p.shape)}]" for k in code.inputs}
    comp_expr, comp_buf = _compensation(ctx, step, channel)
    defines = {
        "A_T": a_p.cl_type, "B_T": b_p.cl_type, "Y_T": y_p.cl_type, "COUNT": y_p.physical_size,
        "COORDS(IDX)": body, "SKIP": f"({skip})",
        "A_OFF(kk)": a_p.offset(a_coords, batch_shape + a_p.shape[-2:]),
        "B_OFF(kk)": b_p.offset(b_coords, batch_shape + tuple(b_shape[-2:])),
        "KDIM": kdim, "COMP": comp_expr, "EPI(y)": code.call("y", channel, "k", values),
        "STORE(y)": store_expr(y_p.dtype, "y", program=step.epilogue),
        "EXTRA_ARGS": extra_args(code, {k: ctx.placement(step.inputs[k]) for k in code.inputs}),
    }
    refs = ctx.builder.instance(kernel_source("plan_matmul.cl"), defines, prelude=code.source)
    gsize, lsize = global_1d(y_p.physical_size)
    args = _launch_args(ctx, step, a_name, b_arg, comp_buf, code)
    return StepPlan(step, "matmul", "opencl", [Launch(refs["matmul"], args, gsize, lsize, "matmul")])


#: ``plan_matmul_rows.cl`` computes 8 outputs per work-item in vectors where a row holds
#: a multiple of 8, else whole rows of at most this many
ROW_CHUNK = 16
#: where work-items stay apart (Intel's CPU runtime), up to this many outputs in vectors of 8:
#: a work-item's index arithmetic and row of A then serve more of them (PP-OCRv4 rec's q k^T,
#: 40 x 8 heads of 120 x 15 x 120: 8 / 40 per work-item 0.84 / 0.42 ms)
ROW_CHUNK_APART = 64


def row_chunk(a_p: Placement, b_p: Placement, y_p: Placement, apart: bool = False) -> int | None:
    """Outputs per work-item of ``plan_matmul_rows.cl`` for these operands, None where it does not
    apply; ``apart``: for a device that keeps work-items apart (``DeviceInfo.keeps_work_items_apart``)."""
    n = y_p.shape[-1]
    chunk = 8 if n % 8 == 0 else n if n <= ROW_CHUNK else None
    if apart and n % 8 == 0:
        chunk = max(c for c in range(8, ROW_CHUNK_APART + 1, 8) if n % c == 0)
    if any(p.layout != "plain" for p in (a_p, b_p, y_p)) or a_p.shape[:-2] != y_p.shape[:-2]:
        return None
    return chunk


def row_matmul(ctx: CompileContext, step: Step, a_name: str, a_p: Placement, b_arg: tuple,
               b_p: Placement) -> StepPlan | None:
    """``plan_matmul_rows.cl`` for row-major A [..., M, K] x B [..., K, N] (``b_arg``: a buffer or
    a tensor argument) into a row-major Y (same batch shape, B maybe broadcast); None where it
    does not apply."""
    y_p = ctx.placement(step.outputs[0])
    b_shape, n = b_p.shape, y_p.shape[-1]
    apart = ctx.device.info.keeps_work_items_apart
    chunk = row_chunk(a_p, b_p, y_p, apart)
    if chunk is None:
        return None
    batch_shape = y_p.shape[:-2]
    names = [f"d{i}" for i in range(len(batch_shape))] + ["d_m", "d_n"]
    grid = Placement(batch_shape + (y_p.shape[-2], n // chunk), y_p.dtype)  # one work-item per chunk
    stmts = grid.decompose("IDX", names)[0]
    code = step_epilogue(step, y_p)
    out_names = names[:-1] + ["(n)"]  # an output's coordinates, n its column
    channel = out_names[step.axis] if step.axis is not None else "0"
    values = {k: f"(float)in{k}[{ctx.placement(step.inputs[k]).offset(out_names, y_p.shape)}]" for k in code.inputs}
    comp_expr, comp_buf = _compensation(ctx, step, channel)
    b_batch = b_p.offset(names[:-2] + ["0", "0"], batch_shape + tuple(b_shape[-2:]))
    defines = {
        "A_T": a_p.cl_type, "B_T": b_p.cl_type, "Y_T": y_p.cl_type, "COUNT": grid.size,
        "COORDS(IDX)": " ".join(stmts), "NB": chunk, "KDIM": a_p.shape[-1],
        "A_ROW": f"({a_p.offset(names[:-1] + ['0'])})",
        "B_COL0": f"({b_batch})", "B_STRIDE": b_shape[-1],
        "Y_ROW0": f"({y_p.offset(names[:-1] + ['0'])})",
        "COMP(n)": comp_expr, "EPI(y, n)": code.call("y", channel, "k", values),
        "STORE(y)": store_expr(y_p.dtype, "y", program=step.epilogue),
        "EXTRA_ARGS": extra_args(code, {k: ctx.placement(step.inputs[k]) for k in code.inputs}),
        "KEEP_WI": int(apart),
    }
    refs = ctx.builder.instance(kernel_source("plan_matmul_rows.cl"), defines, prelude=code.source)
    gsize, lsize = global_1d(grid.size)
    args = _launch_args(ctx, step, a_name, b_arg, comp_buf, code)
    return StepPlan(step, "matmul_rows", "opencl", [Launch(refs["matmul_rows"], args, gsize, lsize, "matmul_rows")])


def _compensation(ctx: CompileContext, step: Step, channel: str) -> tuple[str, Any]:
    """The C expression of the zero-point compensation at ``channel``, and its buffer."""
    comp = step.consts.get("comp")
    if comp is None:
        return "0", ctx.dummy_buffer()
    comp = np.asarray(comp, np.int32).reshape(-1)
    return ("comp[0]" if comp.size == 1 else f"comp[{channel}]"), ctx.const(comp)


def _launch_args(ctx: CompileContext, step: Step, a_name: str, b_arg: tuple, comp_buf, code) -> list:
    """Arguments of both MatMul kernels: y, a, b, comp, the epilogue's constants, its extra inputs."""
    args = [("t", step.outputs[0]), ("t", a_name), b_arg, ("b", comp_buf), ("b", ctx.epilogue_buffer(code))]
    return args + [("t", step.inputs[k]) for k in code.inputs]
