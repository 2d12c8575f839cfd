"""Write a quantized model's shape subgraphs back, so it takes other input sizes.

Loading fixes the input shapes and folds every subgraph that computes from them
(ShapeOf -> Slice -> Concat -> Reshape) into constants: the quantizer works on
that static graph.  Written as it stands, the model would hold the calibration
shape in its Reshape targets and fit that size only.  The model as read
(``original``, nothing folded) still has those subgraphs; this puts the ones the
quantized graph reads back in front of their folded constants, as NNCF's output
keeps OpenVINO's, so ``--shape`` (or OpenVINO's ``reshape``) can size it again.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.graph import Graph, Node
from gpu_int8.ops import get_op


def restore_shape_subgraphs(graph: Graph, original: Graph) -> int:
    """Make each folded constant of ``graph`` that ``original`` computes from input shapes a
    computed value again; returns how many were restored.

    ``graph`` must have its shapes inferred; the restored nodes get the shapes and
    dtypes their values have at ``graph``'s input shapes (what the IR's ports say).
    """
    original.toposort()
    chain, derived = _shape_nodes(original)
    producer = {out: node for node in chain for out in node.outputs}
    users = {name for node in graph.nodes for name in node.inputs if name}
    folded = [name for name in derived if name in users and graph.values[name].is_const]
    needed: list[Node] = []
    seen: set[int] = set()
    restored = 0
    for name in folded:
        nodes = _producers_of(name, producer)
        if not all(_sources_available(node, graph, original, producer) for node in nodes):
            continue  # it reads a value quantization rewrote: leave this one folded
        for node in nodes:
            if id(node) not in seen:
                seen.add(id(node))
                needed.append(node)
        restored += 1
    if not needed:
        return 0
    order = {id(node): i for i, node in enumerate(chain)}
    needed.sort(key=lambda node: order[id(node)])
    data = _evaluate(graph, original, needed)
    if data is None or not all(np.array_equal(data[name], graph.values[name].data)
                               for name in folded if name in data):
        return 0  # the chain does not give what was folded here: keep the static model
    _add(graph, original, needed, data)
    graph.toposort()
    return restored


def _shape_nodes(original: Graph) -> tuple[list[Node], set[str]]:
    """Nodes loading folds, in order, and the values among their outputs that follow from
    input shapes (the rest compute from constants alone, as a Convert of a constant)."""
    derived: set[str] = set()
    computed: set[str] = set()  # from constants only
    chain = []
    for node in original.nodes:
        inputs = [name for name in node.inputs if name]
        if hasattr(get_op(node.op_type), "value_from_shapes"):  # ShapeOf: from its input's shape alone
            derived.update(node.outputs)
        elif not all(name in derived or name in computed or original.values[name].is_const for name in inputs):
            continue
        elif any(name in derived for name in inputs):
            derived.update(node.outputs)
        elif inputs:
            computed.update(node.outputs)
        else:
            continue
        chain.append(node)
    return chain, derived


def _producers_of(name: str, producer: dict[str, Node]) -> list[Node]:
    nodes, stack, seen = [], [name], set()
    while stack:
        node = producer.get(stack.pop())
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(i for i in node.inputs if i)
    return nodes


def _sources_available(node: Node, graph: Graph, original: Graph, producer: dict[str, Node]) -> bool:
    """Every input is made by the chain, is a constant, or is a value ``graph`` still computes."""
    for name in node.inputs:
        if not name or name in producer or original.values[name].is_const:
            continue
        value = graph.values.get(name)
        if value is None or value.is_const:
            return False
    return True


def _evaluate(graph: Graph, original: Graph, nodes: list[Node]) -> dict[str, np.ndarray] | None:
    """The chain's values at ``graph``'s shapes, or None where a constant it reads differs in ``graph``."""
    data: dict[str, np.ndarray] = {}
    for node in nodes:
        for name in node.inputs:
            if name and name not in data and original.values[name].is_const:
                mine = graph.values.get(name)
                if mine is not None and not (mine.is_const and np.array_equal(mine.data, original.values[name].data)):
                    return None
                data[name] = original.values[name].data
        op = get_op(node.op_type)
        if hasattr(op, "value_from_shapes"):
            results = op.value_from_shapes(node, [graph.values.get(n) or original.values[n] for n in node.inputs])
        else:
            results = op.run(node, *[data[n] if n else None for n in node.inputs])
        data.update((name, np.asarray(result)) for name, result in zip(node.outputs, results))
    return data


def _add(graph: Graph, original: Graph, nodes: list[Node], data: dict[str, np.ndarray]) -> None:
    """Append ``nodes``: their constants, and their outputs as computed values of known shape."""
    outputs = {out for node in nodes for out in node.outputs}
    for name, array in data.items():
        if name in outputs:
            value = graph.values.get(name) or graph.add_value(name)
            value.shape, value.dtype, value.data = array.shape, array.dtype, None
        elif name not in graph.values:
            graph.add_const(name, array)
    for node in nodes:
        graph.nodes.append(Node(node.op_type, node.name, list(node.inputs), list(node.outputs), dict(node.attrs)))
