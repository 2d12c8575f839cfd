"""Shape inference and constant folding, run once when a model is loaded."""

from __future__ import annotations

import numpy as np

from gpu_int8.errors import ModelError, UnsupportedOpError
from gpu_int8.graph.graph import Graph
from gpu_int8.ops import get_op


def set_input_shapes(graph: Graph, overrides: dict[str, tuple] | None) -> None:
    """Fix the shapes of graph inputs; every dynamic dimension must end up known.

    An override may also change a static dimension, as OpenVINO's ``reshape``
    does: whether the model can take it shows when shapes are inferred (a
    Reshape whose target the file holds as a constant fits one size only).
    Only the rank must match.
    """
    overrides = dict(overrides or {})
    for name, shape in overrides.items():
        if name not in graph.inputs:
            raise ModelError(f"shape override for '{name}', but the model's inputs are {graph.inputs}",
                             file=graph.source)
        value = graph.values[name]
        shape = tuple(int(d) for d in shape)
        if value.shape is not None:
            if len(value.shape) != len(shape) or any(s < 0 for s in shape):
                raise ModelError(f"shape override {list(shape)} for input '{name}' does not fit its "
                                 f"declared shape {list(value.shape)}", file=graph.source)
        value.shape = shape
    for name in graph.inputs:
        value = graph.values[name]
        if not value.is_static:
            raise ModelError(f"input '{name}' has dynamic shape {_show(value.shape)}; give one with "
                             f"--shape {name}=1,3,H,W (or 'shapes:' in the config)", file=graph.source)


def infer_shapes(graph: Graph, fold: bool = True) -> Graph:
    """Infer every value's shape and dtype in place; fold constant subgraphs.

    A node whose inputs are all constant is evaluated now (shape subgraphs
    such as ShapeOf -> Gather -> Concat -> Reshape vanish), unless its op
    says it must stay (a low-precision weight Convert, for LPT to see); an op
    with ``value_from_shapes(node, inputs)`` (ShapeOf) folds from its inputs'
    static shapes alone.
    """
    graph.check()
    graph.toposort()
    kept = []
    for node in graph.nodes:
        op = get_op(node.op_type)
        if op is None:
            raise UnsupportedOpError(f"unsupported op type '{node.op_type}'", file=graph.source, node=node.name)
        inputs = [graph.value(n) if n else None for n in node.inputs]
        present = [v for v in inputs if v is not None]
        for v in present:
            if not v.is_static:
                raise ModelError(f"input '{v.name}' has no static shape", file=graph.source, node=node.name)
        try:
            results = None
            if fold and present and all(v.is_const for v in present) and op.can_fold(node, inputs):
                with np.errstate(all="ignore"):
                    results = op.run(node, *[v.data if v is not None else None for v in inputs])
            elif fold and hasattr(op, "value_from_shapes"):  # ShapeOf: its value is known from static shapes
                results = op.value_from_shapes(node, inputs)
            if results is not None:
                for name, data in zip(node.outputs, results):
                    out = graph.values[name]
                    out.data = np.asarray(data)
                    out.shape, out.dtype = out.data.shape, out.data.dtype
                continue
            specs = op.infer(node, inputs)
        except ModelError:
            raise
        except Exception as exc:  # an op rejected its inputs: say which node and why
            shapes = ", ".join(f"{v.name}{_show(v.shape)}" for v in present)
            raise ModelError(f"{node.op_type} cannot take inputs {shapes}: {exc}",
                             file=graph.source, node=node.name) from None
        if len(specs) < len(node.outputs):
            raise ModelError(f"{node.op_type} gives {len(specs)} outputs, node lists {len(node.outputs)}",
                             file=graph.source, node=node.name)
        for name, (shape, dtype) in zip(node.outputs, specs):
            out = graph.values[name]
            out.shape, out.dtype = tuple(int(d) for d in shape), np.dtype(dtype)
        kept.append(node)
    graph.nodes = kept
    graph.remove_unused()
    return graph


def _show(shape) -> str:
    return "[?]" if shape is None else "[" + ",".join("?" if d in (None, -1) else str(d) for d in shape) + "]"
