"""Rewrite: an activation FakeQuantize (255/256 levels) becomes a quantize to
u8/i8 and a dequantization (OpenVINO's FakeQuantizeDecomposition).

    y = FakeQuantize(x, il, ih, ol, oh)
      -> q = Convert(FakeQuantize(x, il, ih, qmin, qmax), u8|i8)
         y = Multiply(Subtract(Convert(q, f32), zero_point), scale)

u8 where the output range is non-negative, i8 otherwise; scale = (oh - ol) /
(levels - 1), zero_point = qmin - ol / scale.  The inner FakeQuantize, whose
output range is the integer range, is the quantize point the schedule builder
turns into a step's final rounding.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.lpt.fake_quantize_params import plan_int8
from gpu_int8.lpt.lpt_graph import LptGraph
from gpu_int8.ops.element_types import element_type_name


def decompose_fake_quantize(g: LptGraph) -> int:
    """Decompose every activation FakeQuantize that has an int8 form; returns how many."""
    count = 0
    for node in list(g.graph.nodes):
        if node.op_type != "FakeQuantize" or g.const(node.inputs[0]) is not None or is_quantize_point(g, node):
            continue
        plan = plan_int8(g, node)
        if isinstance(plan, str):
            g.refuse(node, plan)
            continue
        output = node.outputs[0]
        shape = g.shape(output)
        fq_out = g.new_value(f"{output}/quantize", shape, np.float32)
        node.outputs[0] = fq_out
        node.inputs[3] = g.add_const(f"{output}/qmin", np.float32(plan.qmin))
        node.inputs[4] = g.add_const(f"{output}/qmax", np.float32(plan.qmax))
        q = g.new_value(f"{output}/q", shape, plan.dtype)
        g.add_node("Convert", [fq_out], q, {"destination_type": element_type_name(plan.dtype)})
        g.dequantize(q, plan.params, output, "dequantize")
        g.qparams[q] = plan.params
        g.origins[q] = output
        count += 1
    return count


def is_quantize_point(g: LptGraph, node) -> bool:
    """A FakeQuantize onto an integer range whose only user is a Convert to u8/i8."""
    if node.op_type != "FakeQuantize":
        return False
    users = g.consumers(node.outputs[0])
    if len(users) != 1 or users[0].op_type != "Convert" or g.uses(node.outputs[0]) != 1:
        return False
    return g.dtype(users[0].outputs[0]) in (np.dtype(np.uint8), np.dtype(np.int8))
