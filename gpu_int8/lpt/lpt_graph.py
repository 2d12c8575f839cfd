"""The graph as the LPT rewrites see it: producer/consumer lookups, node
building with known shapes, and what the rewrites learn along the way."""

from __future__ import annotations

import copy

import numpy as np

from gpu_int8.graph import Graph, Node
from gpu_int8.lpt.qparams import QParams


class LptGraph:
    """A Graph plus the facts the rewrites record for the schedule builder.

    ``qparams`` maps an integer value to how it reads as real numbers;
    ``origins`` maps it to the value of the source graph it quantizes;
    ``refusals`` maps a node name to why it was left in float.
    """

    def __init__(self, graph: Graph):
        self.graph = graph
        self.qparams: dict[str, QParams] = {}
        self.origins: dict[str, str] = {}
        self.refusals: dict[str, str] = {}
        self._producers: dict[str, Node] | None = None
        self._consumers: dict[str, list[Node]] | None = None

    # -- lookups ----------------------------------------------------------
    def changed(self) -> None:
        """Forget the lookup tables after an edit."""
        self._producers = self._consumers = None

    def producer(self, value: str) -> Node | None:
        if self._producers is None:
            self._producers = self.graph.producers()
        return self._producers.get(value)

    def consumers(self, value: str) -> list[Node]:
        if self._consumers is None:
            self._consumers = self.graph.consumers()
        return self._consumers.get(value, [])

    def uses(self, value: str) -> int:
        """How many node inputs and graph outputs read ``value``."""
        users = sum(n.inputs.count(value) for n in self.consumers(value))
        return users + self.graph.outputs.count(value)

    def const(self, value: str) -> np.ndarray | None:
        """The data of a constant value, else None."""
        v = self.graph.values.get(value) if value else None
        return v.data if v is not None and v.is_const else None

    def shape(self, value: str) -> tuple:
        return self.graph.values[value].shape

    def dtype(self, value: str) -> np.dtype:
        return np.dtype(self.graph.values[value].dtype)

    # -- edits --------------------------------------------------------------
    def new_value(self, base: str, shape, dtype) -> str:
        name = self.graph.unique_name(base)
        self.graph.add_value(name, shape, dtype)
        return name

    def add_const(self, base: str, data: np.ndarray) -> str:
        name = self.graph.unique_name(base)
        self.graph.add_const(name, np.asarray(data))
        return name

    def add_node(self, op_type: str, inputs: list[str], output: str, attrs: dict | None = None,
                 name: str | None = None) -> Node:
        """Append a node writing the existing value ``output``."""
        node = Node(op_type, name or self.graph.unique_name(f"{output}/{op_type}"), list(inputs), [output],
                    dict(attrs or {}))
        self.graph.nodes.append(node)
        self.changed()
        return node

    def retarget_output(self, node: Node, index: int, dtype, base: str | None = None) -> str:
        """Make ``node`` write a new value (same shape, ``dtype``) in place of output ``index``;
        the old value is left without a producer for the caller to rebuild."""
        old = node.outputs[index]
        new = self.new_value(base or f"{old}/int", self.shape(old), dtype)
        node.outputs[index] = new
        self.changed()
        return new

    def dequantize(self, source: str, params: QParams, output: str, tag: str) -> list[Node]:
        """Convert(f32) -> [Subtract(zero point)] -> Multiply(scale) from ``source`` into ``output``."""
        rank = len(self.shape(source))
        zero_point = params.zero_point_const(rank) if params.has_zero_point else None
        return self.dequantize_with(source, zero_point, params.scale_const(rank), output, tag)

    def dequantize_with(self, source: str, zero_point: np.ndarray | None, scale: np.ndarray, output: str,
                        tag: str) -> list[Node]:
        """The dequantization chain with explicit constants (``zero_point`` None: no Subtract)."""
        shape = self.shape(source)
        chain = [("Convert", None)] + ([("Subtract", zero_point)] if zero_point is not None else [])
        chain.append(("Multiply", scale))
        if output not in self.graph.values:
            self.graph.add_value(output, shape, np.float32)
        self.graph.values[output].shape, self.graph.values[output].dtype = tuple(shape), np.dtype(np.float32)
        nodes, current = [], source
        for i, (op_type, const) in enumerate(chain):
            base = f"{output}/{tag}_{op_type.lower()}"
            out = output if i == len(chain) - 1 else self.new_value(base, shape, np.float32)
            if const is None:
                nodes.append(self.add_node(op_type, [current], out, {"destination_type": "f32"}))
            else:
                nodes.append(self.add_node(op_type, [current, self.add_const(f"{base}_c", const)], out))
            current = out
        return nodes

    def refuse(self, node: Node, reason: str) -> None:
        """Record why ``node`` stays in float (the first reason wins)."""
        self.refusals.setdefault(node.name, reason)

    def finish(self) -> None:
        self.graph.toposort()
        self.graph.remove_unused()
        self.changed()


def clone_graph(graph: Graph) -> Graph:
    """A copy whose nodes and values can be edited; constant arrays are shared (never written)."""
    clone = copy.copy(graph)
    clone.values = {k: copy.copy(v) for k, v in graph.values.items()}
    clone.nodes = [Node(n.op_type, n.name, list(n.inputs), list(n.outputs), dict(n.attrs)) for n in graph.nodes]
    clone.inputs, clone.outputs = list(graph.inputs), list(graph.outputs)
    return clone
