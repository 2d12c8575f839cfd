"""Convolutions and upsamplings that write straight into the channel concatenation after them.

GoogLeNet's and Inception's branches, SqueezeNet's expand layers: each convolution stored
its tensor, and the Concat copied it into place.  Where the VNNI kernel runs a branch's
convolution, it stores each pixel's channels at their place in the concatenation instead
(row stride the concatenation's channels, channel offset the branch's), and the Concat
copies only its other inputs: one launch and one pass over the data fewer per branch.
PP-OCRv4 det's FPN concatenates three upsampled maps, each requantized first and then
gathered (``compile/requantize_first.py``): the gather copies into the concatenation too.

A candidate is a Concat of two or more 4-D NHWC int8 tensors over their channels; an input
that a convolution or a requantization writes, this Concat alone reads, no model output is,
and the Concat takes once may be stored in place.  The convolution (or the upsampling a
requantization runs at) decides when it compiles (``compile/conv.py``,
``compile/requantize_first.py`` record it in ``CompileContext.written_in_place``); the
Concat, compiled after it, copies the rest.  Plans built with ``keep_all`` store every tensor.
"""

from __future__ import annotations

from gpu_int8.ops.shape_params import normalize_axis
from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.indexing import Placement
from gpu_int8.scheduler.compile.move_chain import read_once


def concat_targets(schedule: Schedule, placements: dict[str, Placement]) -> dict[str, tuple[str, int]]:
    """Convolution and requantization outputs that may be written into a concatenation: tensor ->
    (the Concat's output, the tensor's first channel there)."""
    intermediate = read_once(schedule)
    writers = {name: step for step in schedule.steps for name in step.outputs}
    targets = {}
    for step in schedule.steps:
        inputs = channel_concat(step, placements)
        if inputs is None or len(inputs) < 2:  # one input: a move chain's
            continue
        out = placements[step.outputs[0]]
        for name, offset in inputs:
            p = placements[name]
            writer = writers.get(name)
            if (writer is not None and writer.kind in ("conv", "requantize") and intermediate(name)
                    and p.layout == "nhwc"
                    and p.dtype == out.dtype and p.shape[0] == out.shape[0] and p.shape[2:] == out.shape[2:]):
                targets[name] = (step.outputs[0], offset)
    return targets


def channel_concat(step: Step, placements: dict[str, Placement]) -> list[tuple[str, int]] | None:
    """A Concat over the channels of 4-D tensors into an NHWC int8 one, each input taken once:
    its inputs with their first channel in the output; None for any other step."""
    if step.kind != "move" or step.op_type != "Concat" or len(step.outputs) != 1:
        return None
    out = placements[step.outputs[0]]
    if out.layout != "nhwc" or out.dtype not in ("u8", "i8"):
        return None
    try:
        axis = normalize_axis(int(step.attrs.get("op_attrs", {}).get("axis", 1)), 4)
    except (ValueError, TypeError):
        return None
    names = [a[1] for a in step.attrs.get("args", []) if a is not None and a[0] == "t"]
    if axis != 1 or len(names) != len(set(names)):
        return None
    inputs, offset = [], 0
    for name in names:
        inputs.append((name, offset))
        offset += placements[name].shape[1]
    return inputs
