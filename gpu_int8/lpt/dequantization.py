"""Find the dequantization in front of a value: Convert(f32) of an integer
tensor, then an optional Subtract of a constant zero point, then an optional
Multiply by a constant scale (OpenVINO's NetworkHelper::getDequantization)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gpu_int8.graph import Node
from gpu_int8.lpt.lpt_graph import LptGraph
from gpu_int8.lpt.qparams import QParams

INT_TYPES = (np.dtype(np.uint8), np.dtype(np.int8), np.dtype(np.int32))


@dataclass
class Dequantization:
    """``output = (Convert(source) - zero_point) * scale``; ``params`` None when the
    constants vary along more than one axis."""

    source: str
    source_dtype: np.dtype
    output: str
    params: QParams | None
    nodes: list[Node] = field(default_factory=list)
    scale: np.ndarray | None = None  # the Multiply constant as written
    zero_point: np.ndarray | None = None  # the Subtract constant as written


def match_dequantization(g: LptGraph, value: str) -> Dequantization | None:
    """The dequantization chain that ends at ``value``, or None."""
    nodes, scale, zero_point, current = [], None, None, value
    node = g.producer(current)
    if node is not None and node.op_type == "Multiply":
        found = _const_operand(g, node, commutative=True)
        if found is None:
            return None
        scale, current = found
        nodes.insert(0, node)
        node = g.producer(current)
    if node is not None and node.op_type == "Subtract":
        found = _const_operand(g, node, commutative=False)
        if found is None:
            return None
        zero_point, current = found
        nodes.insert(0, node)
        node = g.producer(current)
    if node is None or node.op_type != "Convert" or not node.inputs:
        return None
    source = node.inputs[0]
    if g.dtype(source) not in INT_TYPES or g.dtype(current) != np.dtype(np.float32):
        return None
    nodes.insert(0, node)
    rank = len(g.shape(source))
    params = QParams.from_consts(scale, zero_point, rank)
    return Dequantization(source, g.dtype(source), value, params, nodes, scale, zero_point)


def _const_operand(g: LptGraph, node: Node, commutative: bool):
    """(constant, other input) of a binary node, or None."""
    if len(node.inputs) != 2:
        return None
    a, b = node.inputs
    if g.const(b) is not None and g.const(a) is None:
        return g.const(b), a
    if commutative and g.const(a) is not None and g.const(b) is None:
        return g.const(a), b
    return None

