"""Rewrite: a FakeQuantize on a weight constant becomes an int8 constant and its
dequantization (NNCF's weight form: i8 Constant -> Convert -> [Subtract] -> Multiply).

    FakeQuantize(W, il, ih, ol, oh, levels)
      -> Multiply(Subtract(Convert(Wq:i8), zero_point), scale)

Wq is what FakeQuantize computes, shifted into i8: Q(W) + qmin.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.graph import Node
from gpu_int8.lpt.fake_quantize_params import plan_int8
from gpu_int8.lpt.lpt_graph import LptGraph
from gpu_int8.ops import get_op


def fold_weight_fake_quantize(g: LptGraph) -> int:
    """Fold every weight FakeQuantize with 255/256 levels; returns how many."""
    count = 0
    for node in list(g.graph.nodes):
        if node.op_type != "FakeQuantize" or g.const(node.inputs[0]) is None:
            continue
        plan = plan_int8(g, node, signed=True)
        if isinstance(plan, str):
            g.refuse(node, plan)
            continue
        il, ih = g.const(node.inputs[1]), g.const(node.inputs[2])
        # the FakeQuantize reference itself, with the integer range as its output range
        levels_only = Node(node.op_type, node.name, [], [], {"levels": node.attrs["levels"]})
        (q,) = get_op("FakeQuantize").run(levels_only, g.const(node.inputs[0]), il, ih,
                                          np.float32(plan.qmin), np.float32(plan.qmax))
        weights = g.add_const(f"{node.name}/int8", q.astype(np.int8))
        output = node.outputs[0]
        g.graph.nodes.remove(node)
        g.changed()
        g.dequantize(weights, plan.params, output, "weights")
        count += 1
    return count
