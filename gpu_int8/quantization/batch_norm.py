"""BatchNormInference left in the graph (one that follows a Concat or an input rather
than a convolution, as in DenseNet) becomes Multiply + Add by per-channel constants.

As one op it has no int8 form and would keep its layer in float; as an affine map it
folds into the requantization around it, the way OpenVINO's own pipeline decomposes
it before its low-precision transformations."""

from __future__ import annotations

import numpy as np

from gpu_int8.graph import Graph, Node
from gpu_int8.ops import get_op


def decompose_batch_norms(graph: Graph) -> int:
    """Rewrite every BatchNormInference with constant parameters in place; returns how many."""
    count = 0
    nodes = []
    for node in graph.nodes:
        if node.op_type != "BatchNormInference":
            nodes.append(node)
            continue
        op = get_op(node.op_type)
        values = [graph.values[n] for n in node.inputs]
        x, gamma, beta, mean, variance = op.ordered_inputs(node, values)
        if not all(v.is_const for v in (gamma, beta, mean, variance)):
            nodes.append(node)
            continue
        scale = gamma.data.astype(np.float64) / np.sqrt(variance.data.astype(np.float64) + float(node.attrs["epsilon"]))
        shift = beta.data.astype(np.float64) - mean.data.astype(np.float64) * scale
        shape = (1, -1) + (1,) * (len(x.shape) - 2)
        scale_name = graph.add_const(graph.unique_name(f"{node.name}/scale"),
                                     scale.reshape(shape).astype(np.float32)).name
        shift_name = graph.add_const(graph.unique_name(f"{node.name}/shift"),
                                     shift.reshape(shape).astype(np.float32)).name
        scaled = graph.unique_name(f"{node.name}/scaled")
        graph.add_value(scaled)
        nodes.append(Node("Multiply", f"{node.name}/scaled", [x.name, scale_name], [scaled]))
        nodes.append(Node("Add", node.name, [scaled, shift_name], list(node.outputs)))
        count += 1
    graph.nodes = nodes
    return count
