"""Runs a Graph in float precision with each op's NumPy reference."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gpu_int8.errors import ModelError
from gpu_int8.graph import Graph
from gpu_int8.ops import get_op


class FloatExecutor:
    """Executes the graph node by node; FakeQuantize is computed exactly."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._ops = [(node, get_op(node.op_type)) for node in graph.nodes]
        # free each intermediate after its last use to bound memory
        last_use: dict[str, int] = {}
        for i, node in enumerate(graph.nodes):
            for name in node.inputs:
                last_use[name] = i
        self._free_after = [[n for n in set(node.inputs) if n and last_use.get(n) == i
                             and n not in graph.outputs and not graph.values[n].is_const]
                            for i, node in enumerate(graph.nodes)]

    def run(self, feeds: dict[str, np.ndarray], keep_all: bool = False,
            observe: Callable[[str, np.ndarray], None] | None = None) -> dict[str, np.ndarray]:
        """Outputs by name; with ``keep_all`` every intermediate value too.

        ``observe(name, array)``, when given, sees every graph input and every value a node
        computes, as it is computed (calibration collects statistics this way without
        keeping the whole model's activations alive)."""
        env: dict[str, np.ndarray] = {}
        for name in self.graph.inputs:
            env[name] = feeds[name]
            if observe is not None:
                observe(name, env[name])
        for i, (node, op) in enumerate(self._ops):
            args = [None if not n else env[n] if n in env else self.graph.values[n].data for n in node.inputs]
            try:
                with np.errstate(all="ignore"):
                    results = op.run(node, *args)
            except Exception as exc:
                raise ModelError(f"{node.op_type} failed at run time: {exc}",
                                 file=self.graph.source, node=node.name) from exc
            for name, data in zip(node.outputs, results):
                env[name] = data
                if observe is not None:
                    observe(name, data)
            if not keep_all:
                for name in self._free_after[i]:
                    env.pop(name, None)
        if keep_all:
            return env
        return {name: env[name] if name in env else self.graph.values[name].data for name in self.graph.outputs}
