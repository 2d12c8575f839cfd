"""The graph IR: values, nodes in topological order, inputs and outputs."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from gpu_int8.errors import ModelError
from gpu_int8.graph.node import Node
from gpu_int8.graph.value import Value


class Graph:
    """A small, explicit dataflow graph.

    Values are looked up by name in ``values``; ``nodes`` is kept in
    topological order by :meth:`toposort`.  ``source`` names the file it
    came from, so errors can point at it.
    """

    def __init__(self, name: str = "graph", source: str | None = None):
        self.name = name
        self.source = source
        self.values: dict[str, Value] = {}
        self.nodes: list[Node] = []
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self._ids = itertools.count()

    # -- building -----------------------------------------------------------
    def add_value(self, name: str, shape=None, dtype=None) -> Value:
        if name in self.values:
            raise ModelError(f"value '{name}' defined twice", file=self.source)
        value = Value(name, tuple(shape) if shape is not None else None,
                      np.dtype(dtype) if dtype is not None else None)
        self.values[name] = value
        return value

    def add_const(self, name: str, data: np.ndarray) -> Value:
        data = np.asarray(data)
        value = self.add_value(name, data.shape, data.dtype)
        value.data = data
        return value

    def add_input(self, name: str, shape, dtype) -> Value:
        value = self.add_value(name, shape, dtype)
        self.inputs.append(name)
        return value

    def add_node(self, op_type: str, inputs: list[str], outputs: list[str] | int = 1,
                 attrs: dict | None = None, name: str | None = None) -> Node:
        """Append a node; ``outputs`` may be a count, then names are made up."""
        name = name or self.unique_name(op_type)
        if isinstance(outputs, int):
            outputs = [name if i == 0 and name not in self.values else self.unique_name(f"{name}:{i}")
                       for i in range(outputs)]
        for out in outputs:
            if out not in self.values:
                self.add_value(out)
        node = Node(op_type, name, list(inputs), list(outputs), dict(attrs or {}))
        self.nodes.append(node)
        return node

    def unique_name(self, base: str) -> str:
        name = base
        while name in self.values or any(n.name == name for n in self.nodes[-1:]):
            name = f"{base}_{next(self._ids)}"
        return name

    # -- queries ------------------------------------------------------------
    def producers(self) -> dict[str, Node]:
        return {out: node for node in self.nodes for out in node.outputs}

    def consumers(self) -> dict[str, list[Node]]:
        users: dict[str, list[Node]] = {}
        for node in self.nodes:
            for name in node.inputs:
                if name:
                    users.setdefault(name, []).append(node)
        return users

    def value(self, name: str) -> Value:
        try:
            return self.values[name]
        except KeyError:
            raise ModelError(f"value '{name}' is used but never defined", file=self.source) from None

    # -- maintenance --------------------------------------------------------
    def copy(self) -> Graph:
        """A graph of its own values and nodes (constant arrays shared: rewrites replace them,
        they never write into them)."""
        other = Graph(self.name, self.source)
        other.values = {name: dataclasses.replace(v) for name, v in self.values.items()}
        other.nodes = [dataclasses.replace(n, inputs=list(n.inputs), outputs=list(n.outputs), attrs=dict(n.attrs))
                       for n in self.nodes]
        other.inputs, other.outputs = list(self.inputs), list(self.outputs)
        return other

    def toposort(self) -> None:
        """Order nodes so every input is produced before it is used."""
        producer = self.producers()
        order, state = [], {}
        for root in self.nodes:
            stack = [(root, False)]
            while stack:
                node, done = stack.pop()
                if done:
                    state[id(node)] = 2
                    order.append(node)
                    continue
                if state.get(id(node)) == 2:
                    continue
                if state.get(id(node)) == 1:
                    raise ModelError(f"graph has a cycle through node '{node.name}'", file=self.source)
                state[id(node)] = 1
                stack.append((node, True))
                for name in reversed(node.inputs):
                    dep = producer.get(name)
                    if dep is not None and state.get(id(dep)) != 2:
                        if state.get(id(dep)) == 1:
                            raise ModelError(f"graph has a cycle through node '{dep.name}'", file=self.source)
                        stack.append((dep, False))
        self.nodes = order

    def remove_unused(self) -> None:
        """Drop nodes and values that no graph output depends on."""
        producer = self.producers()
        live, stack = set(), list(self.outputs)
        while stack:
            name = stack.pop()
            if name in live:
                continue
            live.add(name)
            node = producer.get(name)
            if node is not None:
                stack.extend(n for n in node.inputs if n)
        self.nodes = [n for n in self.nodes if any(o in live for o in n.outputs)]
        keep = live | set(self.inputs) | {o for n in self.nodes for o in n.outputs}
        self.values = {k: v for k, v in self.values.items() if k in keep}

    def replace_uses(self, old: str, new: str) -> None:
        """Make every consumer (and graph output) of ``old`` read ``new``."""
        for node in self.nodes:
            node.inputs = [new if i == old else i for i in node.inputs]
        self.outputs = [new if o == old else o for o in self.outputs]

    def check(self) -> None:
        """Every input of every node, and every graph output, is defined somewhere."""
        defined = set(self.inputs) | {v.name for v in self.values.values() if v.is_const}
        defined.update(out for node in self.nodes for out in node.outputs)
        for node in self.nodes:
            for name in node.inputs:
                if name and name not in defined:
                    raise ModelError(f"input '{name}' is not defined", file=self.source, node=node.name)
        for name in self.outputs:
            if name not in defined:
                raise ModelError(f"graph output '{name}' is never produced", file=self.source)

    def __repr__(self) -> str:
        return f"<Graph {self.name}: {len(self.nodes)} nodes, inputs {self.inputs}, outputs {self.outputs}>"
