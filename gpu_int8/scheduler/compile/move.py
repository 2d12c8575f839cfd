"""Data-movement steps: index maps (:mod:`gpu_int8.scheduler.move_maps`) run by the
generic kernels of ``cl_kernels/plan_move.cl``, or a buffer alias when the map is
the identity."""

from __future__ import annotations

import numpy as np

from gpu_int8.schedule import Step
from gpu_int8.scheduler.compile.actions import Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, global_1d
from gpu_int8.scheduler.compile.indexing import decompose_row_major
from gpu_int8.scheduler.move_maps import BoxCopy, NotAGather, output_maps
from gpu_int8.scheduler.program_cache import kernel_source

_ELEMENT_TYPES = {1: ("uchar", np.uint8), 4: ("uint", np.uint32)}


def move_kernels(ctx: CompileContext, itemsize: int) -> dict:
    cl_type, _ = _ELEMENT_TYPES[itemsize]
    return ctx.builder.instance(kernel_source("plan_move.cl"), {"E_T": cl_type})


def copy_box_launch(ctx: CompileContext, itemsize: int, box: BoxCopy, out_name: str, in_name: str) -> Launch:
    """A launch of ``cl_kernels/plan_copy_box.cl`` copying ``box`` from ``in_name`` to ``out_name``."""
    dims, out_strides, in_strides = list(box.dims), list(box.out_strides), list(box.in_strides)
    vec, tile = 1, _transposing_tile(box)
    if tile is not None:  # the last axis goes into the tile; the input's contiguous one by runs
        axis, runs = tile
        tile_defines = {"TILE_O": dims[-1], "TILE_I": runs, "TILE_N": dims[-1] * runs,
                        "TILE_STEP": in_strides[-1]}
        dims[axis] //= runs
        out_strides[axis] *= runs
        in_strides[axis] = runs
        vec, dims[-1] = dims[-1] * runs, 1
    elif out_strides[-1] == 1 and in_strides[-1] == 1:  # innermost runs contiguous on both sides
        vec = run_chunk(dims[-1], itemsize)
        dims[-1] //= vec
        out_strides[-1] = in_strides[-1] = vec
    names = [f"b{d}" for d in range(len(dims))]
    coords = decompose_row_major("IDX", names, dims)

    def offset(base, strides):
        return " + ".join([str(base)] + [f"{n}*{st}" for n, st, dim in zip(names, strides, dims) if dim > 1 and st])

    body = " ".join(coords + [f"const int o = {offset(box.out_base, out_strides)};",
                              f"const int s = {offset(box.in_base, in_strides)};"])
    count = box.size // vec
    defines = {"E_T": _ELEMENT_TYPES[itemsize][0], "BOX_VEC": vec, "BOX_COUNT": count, "BOX_OFFSETS(IDX)": body}
    if tile is not None:
        defines.update(tile_defines)
    elif vec not in (1, 2, 4, 8, 16):
        defines["BOX_RUN_COPY"] = _run_copy(vec)
    kernel = ctx.builder.instance(kernel_source("plan_copy_box.cl"), defines)["copy_box"]
    gsize, lsize = global_1d(count, 256)
    return Launch(kernel, [("t", out_name), ("t", in_name)], gsize, lsize, "copy_box")


#: bytes a work-item copies of a run contiguous on both sides, at most
RUN_CHUNK_BYTES = 64


def run_chunk(run: int, itemsize: int) -> int:
    """Elements of a contiguous run one work-item copies: the largest divisor of ``run`` within
    :data:`RUN_CHUNK_BYTES` (PP-OCRv4 det's Concat of four 24-channel tensors took 24 bytes a
    pixel as three work-items of 8: 0.32 ms for 2.4 MB)."""
    limit = max(1, RUN_CHUNK_BYTES // itemsize)
    return next(d for d in range(min(run, limit), 0, -1) if run % d == 0)


def _run_copy(n: int) -> str:
    """Statements copying n elements from in + s to out + o as vectors of 16, 8, 4, 2 and 1."""
    stmts, done = [], 0
    for width in (16, 8, 4, 2, 1):
        while n - done >= width:
            if width == 1:
                stmts.append(f"out[o + {done}] = in[s + {done}];")
            else:
                stmts.append(f"vstore{width}(vload{width}(0, in + s + {done}), 0, out + o + {done});")
            done += width
    return " ".join(stmts)


def _transposing_tile(box: BoxCopy) -> tuple[int, int] | None:
    """(axis, runs) where ``box`` transposes: its last axis, 2 to 8 long, contiguous in the
    output only, and ``axis`` contiguous in the input and right above it in the output; a
    work-item copies ``runs`` (2 or more) along ``axis`` by the whole last axis, a run of up to
    16 on the output side.  None where the box has no such shape."""
    n, dims, outs, ins = len(box.dims), box.dims, box.out_strides, box.in_strides
    if n < 2 or outs[-1] != 1 or ins[-1] == 1 or dims[-1] not in (2, 4, 8):
        return None
    for axis in range(n - 1):
        if ins[axis] == 1 and outs[axis] == dims[-1]:
            runs = next((r for r in (16 // dims[-1], 8 // dims[-1], 4 // dims[-1])
                         if r >= 2 and dims[axis] % r == 0), None)
            return None if runs is None else (axis, runs)
    return None


def fill_scalar(value, dtype: np.dtype, itemsize: int):
    """The fill value as the kernel's element type (the stored bits of ``value`` as ``dtype``)."""
    _, raw = _ELEMENT_TYPES[itemsize]
    return np.asarray(value).astype(dtype).reshape(1).view(raw)[0]


def compile_move(ctx: CompileContext, step: Step) -> StepPlan | None:
    """The plan of a move step, or None when it is not a pure gather (the caller runs it on the host)."""
    ins = [ctx.placement(t) for t in step.inputs]
    outs = [ctx.placement(t) for t in step.outputs]
    if not ins or any(p.dtype not in ("u8", "i8", "f32", "i32") for p in ins + outs):
        return None
    itemsize = ins[0].np_dtype.itemsize
    try:
        maps = output_maps(step, ins, outs)
    except NotAGather:
        return None
    kernels = move_kernels(ctx, itemsize)
    actions, aliases = [], {}
    for out_name, out_p, om in zip(step.outputs, outs, maps):
        if out_name not in ctx.used:
            continue
        if om.alias_of is not None:
            aliases[out_name] = step.inputs[om.alias_of]
            continue
        if om.fill is not None:
            gsize, lsize = global_1d(out_p.physical_size, 256)
            value = fill_scalar(om.fill, out_p.np_dtype, itemsize)
            actions.append(Launch(kernels["fill"], [("t", out_name), ("s", value),
                                                    ("s", np.int32(out_p.physical_size))], gsize, lsize, "fill"))
        for src in om.sources:
            in_name = step.inputs[src.input]
            if in_name in ctx.written_in_place:  # stored there by its convolution or its other reader
                continue
            if src.box is not None:
                actions.append(copy_box_launch(ctx, itemsize, src.box, out_name, in_name))
            else:
                gsize, lsize = global_1d(out_p.physical_size, 256)
                actions.append(Launch(kernels["gather_map"], [("t", out_name), ("t", in_name),
                                                              ("b", ctx.const(src.map)),
                                                              ("s", np.int32(out_p.physical_size))],
                                      gsize, lsize, "gather_map"))
    names = sorted({a.name for a in actions})
    if not actions and ctx.written_in_place.intersection(step.inputs):
        return StepPlan(step, "fused", "alias", note="the steps writing or reading its inputs stored it")
    if not actions:
        return StepPlan(step, "alias", "alias", [], aliases=aliases)
    return StepPlan(step, "+".join(names), "opencl", actions, aliases=aliases)
