"""Written-out layer norms become MVN before quantization.

ONNX exporters write a layer norm's normalization as ``d = x - mean(x)``,
``d / sqrt(mean(d^2) + eps)``.  Read as written, its subtraction takes two
activations and would get two FakeQuantize, and five float steps run where
one would do.  OpenVINO's converter folds the same pattern into MVN (which stays
float, as in NNCF's models); this pass does the same.  The scale and shift after
it stay as they are, for the requantization to absorb.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.graph import Graph, Node
from gpu_int8.quantization.patterns import replace_matches, scalar


def fuse_layer_norms(graph: Graph) -> int:
    """Replace each written-out mean-variance normalization in place; returns how many."""
    return replace_matches(graph, _mvn)


def _mvn(graph: Graph, producer: dict, node: Node) -> Node | None:
    match = _match(graph, producer, node)
    if match is None:
        return None
    x, axes, eps = match
    return Node("MVN", node.name, [x, axes], list(node.outputs),
                {"normalize_variance": True, "eps": eps, "eps_mode": "inside_sqrt", "opset": 6})


def _match(graph: Graph, producer: dict, node: Node) -> tuple[str, str, float] | None:
    """(x, axes constant, eps) if ``node`` is Divide(x - mean(x), sqrt(mean((x - mean(x))^2) + eps))."""
    if node.op_type != "Divide" or len(node.inputs) != 2:
        return None
    centered, root = (producer.get(n) for n in node.inputs)
    if centered is None or centered.op_type != "Subtract" or root is None or root.op_type != "Sqrt":
        return None
    x, mean = centered.inputs
    axes = _mean_axes(graph, producer.get(mean), x)
    shifted = producer.get(root.inputs[0])
    if axes is None or shifted is None or shifted.op_type != "Add":
        return None
    for variance, eps in (shifted.inputs, shifted.inputs[::-1]):
        eps_value = scalar(graph, eps)
        square = producer.get(variance)
        square = producer.get(square.inputs[0]) if square is not None and square.op_type == "ReduceMean" else None
        if eps_value is None or square is None or square.op_type != "Power" or square.inputs[0] != centered.outputs[0]:
            continue
        if scalar(graph, square.inputs[1]) == 2.0 and _same_axes(graph, producer.get(variance), axes):
            return x, axes, eps_value
    return None


def _mean_axes(graph: Graph, node: Node | None, x: str) -> str | None:
    """The axes constant of ``node`` if it is ReduceMean(x, axes) keeping dims."""
    if node is None or node.op_type != "ReduceMean" or node.inputs[0] != x or len(node.inputs) < 2:
        return None
    value = graph.values.get(node.inputs[1])
    keeps = node.attrs.get("keep_dims", False) in (True, 1, "true", "True")
    return node.inputs[1] if value is not None and value.is_const and keeps else None


def _same_axes(graph: Graph, node: Node | None, axes: str) -> bool:
    if node is None or node.op_type != "ReduceMean" or len(node.inputs) < 2:
        return False
    a, b = graph.values.get(node.inputs[1]), graph.values[axes]
    return a is not None and a.is_const and np.array_equal(np.asarray(a.data), np.asarray(b.data))
