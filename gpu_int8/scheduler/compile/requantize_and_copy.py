"""A requantization whose input a Concat also copies whole: one kernel does both.

DenseNet reads each dense block's growing concatenation twice per layer: a requantization
(batch norm, ReLU and the FakeQuantize in front of the layer's 1x1 convolution), and the
next Concat, which copies it into the next, larger concatenation (the layer's new channels
are stored there in place by their convolution, ``compile/concat_in_place.py``).  Where the
requantization runs on the channel-vector kernel (``cl_kernels/plan_eltwise8.cl``), it now
also stores the raw bytes it loads at their place in the Concat's output, and the Concat
copies only what is left (for DenseNet nothing): one launch and one pass over the tensor
fewer per layer.  The Concat's output then lives from the requantization's place on.

A pair is a single-input ``requantize`` step and a channel Concat (a ``move`` over axis 1 to an
NHWC int8 tensor) that are the only readers of one tensor, no model output, the
requantization first.  Plans built with ``keep_all`` keep the steps apart.
"""

from __future__ import annotations

import dataclasses

from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.actions import StepPlan
from gpu_int8.scheduler.compile.concat_in_place import channel_concat
from gpu_int8.scheduler.compile.context import CompileContext
from gpu_int8.scheduler.compile.eltwise import channel_vector_launch
from gpu_int8.scheduler.compile.indexing import Placement


def requantize_and_copy(schedule: Schedule, placements: dict[str, Placement]) -> dict[int, tuple[int, str, int]]:
    """The pairs: the requantization's step index -> (the Concat's step index, its output, the
    shared tensor's first channel there)."""
    readers: dict[str, list[int]] = {}
    for i, step in enumerate(schedule.steps):
        for name in set(step.inputs):
            readers.setdefault(name, []).append(i)
    outputs = set(schedule.outputs)
    pairs = {}
    for c, step in enumerate(schedule.steps):
        for name, offset in channel_concat(step, placements) or []:
            if name in outputs or len(readers.get(name, [])) != 2:
                continue
            r = next(i for i in readers[name] if i != c)
            requant = schedule.steps[r]
            if r < c and requant.kind == "requantize" and requant.inputs == [name] and len(requant.outputs) == 1:
                pairs[r] = (c, step.outputs[0], offset)
    return pairs


def compile_requantize_and_copy(ctx: CompileContext, requant: Step, concat_out: str, offset: int
                                ) -> StepPlan | None:
    """The requantization storing its input into ``concat_out`` too (then the Concat skips that
    input: ``CompileContext.written_in_place``), or None where the channel-vector kernel does not
    apply."""
    src, out = requant.inputs[0], requant.outputs[0]  # one input: its program reads no operand
    launch = channel_vector_launch(ctx, "eltwise+copy", requant, (src, ctx.placement(src)), {},
                                   (out, ctx.placement(out)), requant.axis, copy=(concat_out, offset))
    if launch is None:
        return None
    ctx.written_in_place.add(src)
    return StepPlan(dataclasses.replace(requant, outputs=[out, concat_out]), "eltwise+copy", "opencl", [launch],
                    note=f"also stores its input in '{concat_out}'")
