"""A MatMul whose transposed first operand, through the moves before it, is a buffer already
stored as the rows it reads.

PP-OCRv4 rec's last MatMul (40 rows of 120 features to 6625 classes) reads ``A^T`` with A the
Squeeze of a convolution's output [1, 120, 1, 40]: the Squeeze copied the NHWC output into
a plain [120, 40] tensor, and the MatMul copied that back into [40, 120] rows, the very
bytes the convolution had stored.  Composed with the transpose, the moves' index map is the
identity on the convolution's buffer: the MatMul now reads an alias of it, and neither copy
runs.

A group is one or more consecutive moves (one tensor in, one out, each output read by the
next step only and not a model output) and a MatMul with ``transpose_a`` and constant
weights reading the last one's output.  Plans built with ``keep_all`` keep the steps apart.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.actions import StepPlan
from gpu_int8.scheduler.compile.context import CompileContext
from gpu_int8.scheduler.compile.indexing import Placement
from gpu_int8.scheduler.compile.matmul import compile_matmul
from gpu_int8.scheduler.compile.move_chain import chained_step, grouped_step, read_once, single_move
from gpu_int8.scheduler.move_maps import NotAGather, logical_maps


def transposed_operands(schedule: Schedule) -> dict[int, list[int]]:
    """Groups by the index of their first step: the moves, then the MatMul."""
    only_next = read_once(schedule)
    steps, groups = schedule.steps, {}
    for i, mm in enumerate(steps):
        if mm.kind != "matmul" or not mm.attrs.get("transpose_a") or "w" not in mm.consts or i == 0:
            continue
        first = i
        while first > 0 and single_move(steps[first - 1]) and only_next(steps[first - 1].outputs[0]) \
                and steps[first - 1].outputs[0] == steps[first].inputs[0]:
            first -= 1
        if first < i:
            groups[first] = list(range(first, i + 1))
    return groups


def compile_transposed_operand(ctx: CompileContext, steps: list[Step]) -> StepPlan | None:
    """The MatMul reading an alias of the moves' input, or None where the moves' map composed
    with the transpose is not the identity on that input's physical layout."""
    *moves, mm = steps
    src = moves[0].inputs[0]
    src_p, a_p = ctx.placement(src), ctx.placement(mm.inputs[0])
    try:
        which, index, fill = logical_maps(chained_step(moves), [src_p.shape], src_p.np_dtype)[0]
    except NotAGather:
        return None
    if fill is not None or np.any(which != 0) or len(a_p.shape) < 2:
        return None
    rows = np.swapaxes(index.reshape(a_p.shape), -1, -2)  # A^T, each element's logical index in src
    physical = src_p.from_physical(np.arange(src_p.physical_size, dtype=np.int64)).reshape(-1)
    if src_p.physical_size != rows.size or not np.array_equal(physical[rows.reshape(-1)], np.arange(rows.size)):
        return None
    alias = ctx.add_scratch(f"{mm.name}/a_t", Placement(rows.shape, a_p.dtype))
    plan = compile_matmul(ctx, dataclasses.replace(mm, inputs=[alias], attrs={**mm.attrs, "transpose_a": False}))
    if plan is None or plan.where != "opencl":
        ctx.scratch.pop(alias, None)
        ctx.placements.pop(alias, None)
        return None
    return dataclasses.replace(plan, step=grouped_step(steps), aliases={**plan.aliases, alias: src},
                               note=f"reads '{src}' as stored")
