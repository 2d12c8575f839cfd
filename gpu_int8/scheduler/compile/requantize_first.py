"""A nearest upsampling whose only reader is a requantization: requantize first, then upsample.

PP-OCRv4 det's FPN upsamples int8 maps 2x to 8x (Interpolate nearest, a gather) and
requantizes each result for the Concat after it: the requantization ran on the upsampled
tensor, up to 64 times the elements it reads.  A requantization acts element by element
(its constants per tensor, or per channel, which the upsampling keeps), so it commutes with
the gather: at the upsampling's place in the plan, one kernel now requantizes the small
tensor into a scratch tensor and the gather copies that into the requantization's output;
the requantization's own place does nothing.  The integers are the same.  Where a Concat
takes the result in place (``compile/concat_in_place.py``), the gather copies it there.

A pair is a ``move`` Interpolate of one int8 tensor to more elements on the same batch and
channels, whose output only a single-input ``requantize`` step reads (no model output).
Plans built with ``keep_all`` keep the steps apart.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.actions import StepPlan
from gpu_int8.scheduler.compile.context import CompileContext
from gpu_int8.scheduler.compile.eltwise import compile_eltwise
from gpu_int8.scheduler.compile.indexing import Placement
from gpu_int8.scheduler.compile.move import compile_move, copy_box_launch
from gpu_int8.scheduler.compile.move_chain import read_once
from gpu_int8.scheduler.move_maps import NOT_MINE, NotAGather, box_of, output_maps


def requantize_first(schedule: Schedule) -> dict[int, int]:
    """The pairs: the upsampling's step index -> its requantization's."""
    only_reader = read_once(schedule)
    producer = {name: i for i, step in enumerate(schedule.steps) for name in step.outputs}
    pairs = {}
    for j, requant in enumerate(schedule.steps):
        if requant.kind != "requantize" or len(requant.inputs) != 1 or requant.axis not in (None, 1):
            continue
        i = producer.get(requant.inputs[0])
        move = schedule.steps[i] if i is not None else None
        if move is None or move.kind != "move" or move.op_type != "Interpolate" or len(move.inputs) != 1 \
                or len(move.outputs) != 1 or not only_reader(move.outputs[0]):
            continue
        small, big = (schedule.tensors[move.inputs[0]], schedule.tensors[move.outputs[0]])
        if small.dtype in ("u8", "i8") and big.dtype == small.dtype and len(small.shape) == len(big.shape) >= 2 \
                and tuple(small.shape[:2]) == tuple(big.shape[:2]) \
                and np.prod(big.shape) > np.prod(small.shape):
            pairs[i] = j
    return pairs


def compile_requantized_move(ctx: CompileContext, move: Step, requant: Step) -> StepPlan | None:
    """The pair's launches at the upsampling's place (writing the requantization's output), or
    None where a kernel does not apply."""
    src, out = move.inputs[0], requant.outputs[0]
    src_p, out_p = ctx.placement(src), ctx.placement(out)
    if out_p.dtype not in ("u8", "i8"):
        return None
    scratch = ctx.add_scratch(f"{requant.name}/before_{move.name}", Placement(src_p.shape, out_p.dtype, src_p.layout))
    small = compile_eltwise(ctx, dataclasses.replace(requant, inputs=[src], outputs=[scratch]))
    into = _gather_into_concat(ctx, _reading(move, scratch, out), *ctx.in_place[out]) if out in ctx.in_place else None
    if into is not None and small.where == "opencl":
        ctx.written_in_place.add(out)
        concat = ctx.in_place[out][0]
        return StepPlan(dataclasses.replace(move, outputs=[concat]), f"{small.kernel}+copy_box:in_place", "opencl",
                        small.actions + [into], note=f"stored in '{concat}'")
    gather = compile_move(ctx, _reading(move, scratch, out))
    if gather is None or gather.where != "opencl" or small.where != "opencl":
        del ctx.scratch[scratch], ctx.placements[scratch]  # the steps compile apart: no tensor
        return None
    return StepPlan(dataclasses.replace(move, outputs=[out]), f"{small.kernel}+{gather.kernel}", "opencl",
                    small.actions + gather.actions)


def _gather_into_concat(ctx: CompileContext, move: Step, concat: str, offset: int):
    """The copy of ``move``'s gather storing its NHWC output at channel ``offset`` of the NHWC
    tensor ``concat``, or None where that is no box (``move_maps.box_of``)."""
    src_p, out_p, cat_p = (ctx.placement(t) for t in (move.inputs[0], move.outputs[0], concat))
    try:
        (om,) = output_maps(move, [src_p], [out_p])
    except NotAGather:
        return None
    if om.fill is not None or len(om.sources) != 1:
        return None
    channels = out_p.shape[1]
    pixels, c = np.divmod(np.arange(out_p.physical_size), channels)  # NHWC: pixel-major
    into = np.full(cat_p.physical_size, NOT_MINE, np.int64)
    into[pixels * cat_p.shape[1] + offset + c] = om.sources[0].map
    box = box_of(into, cat_p.physical_shape)
    if box is None:
        return None
    return copy_box_launch(ctx, out_p.np_dtype.itemsize, box, concat, move.inputs[0])


def _reading(move: Step, source: str, out: str) -> Step:
    """``move`` gathering from ``source`` into ``out`` (its op's arguments name its input too)."""
    old = move.inputs[0]
    args = [["t", source] if arg is not None and arg[0] == "t" and arg[1] == old else arg
            for arg in move.attrs["args"]]
    return dataclasses.replace(move, inputs=[source], outputs=[out], attrs={**move.attrs, "args": args})
