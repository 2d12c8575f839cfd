"""Data-movement steps: index maps (:mod:`gpu_int8.scheduler.move_maps`) run by the
generic kernels of ``cl_kernels/plan_move.cl``, or a buffer alias when the map is
the identity."""

from __future__ import annotations

import numpy as np

from gpu_int8.schedule import Step
from gpu_int8.scheduler.compile.actions import Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, global_1d
from gpu_int8.scheduler.move_maps import NotAGather, output_maps
from gpu_int8.scheduler.program_cache import kernel_source

_ELEMENT_TYPES = {1: ("uchar", np.uint8), 4: ("uint", np.uint32)}


def move_kernels(ctx: CompileContext, itemsize: int) -> dict:
    cl_type, _ = _ELEMENT_TYPES[itemsize]
    return ctx.builder.instance(kernel_source("plan_move.cl"), {"E_T": cl_type})


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
            if src.box is not None:
                gsize, lsize = global_1d(src.box.size, 256)
                actions.append(Launch(kernels["copy_box"], [("t", out_name), ("t", in_name),
                                                            ("b", ctx.const(src.box.descriptor()))],
                                      gsize, lsize, "copy_box"))
            else:
                gsize, lsize = global_1d(out_p.physical_size, 256)
                actions.append(Launch(kernels["gather_map"], [("t", out_name), ("t", in_name),
                                                              ("b", ctx.const(src.map)),
                                                              ("s", np.int32(out_p.physical_size))],
                                      gsize, lsize, "gather_map"))
    names = sorted({a.name for a in actions})
    if not actions:
        return StepPlan(step, "alias", "alias", [], aliases=aliases)
    return StepPlan(step, "+".join(names), "opencl", actions, aliases=aliases)
