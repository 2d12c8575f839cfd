"""Where the quantizer puts FakeQuantize: which activations, for which consumers, and
which weights become int8.

The rule follows what OpenVINO's LPT turns into int8 work (and what NNCF places for
it): the activation inputs of convolutions, matrix products, elementwise sums and
products of two activations, pools, means, interpolations and concatenations.  One
FakeQuantize per activation, read by all its consumers, so that none of them needs
the float tensor kept beside the int8 one.  Inputs of one Concat share one range, so
the concatenation runs on int8 with aligned intervals.  A convolution or MatMul whose
weight input is a float constant gets it as int8 with a scale per output channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gpu_int8.graph import Graph, Node

CONV_WEIGHT_AXES = {  # op type -> the weight axes that index output channels
    "Convolution": (0,),
    "GroupConvolution": (0, 1),
    "ConvolutionBackpropData": (1,),
    "GroupConvolutionBackpropData": (0, 2),
}
#: ops whose input 0 is quantized (besides the weighted ones)
SINGLE_INPUT_OPS = ("AvgPool", "ReduceMean", "MaxPool", "Interpolate")
#: elementwise ops quantized when both operands are activations
ELTWISE_OPS = ("Add", "Multiply", "Subtract")
#: ops that only move values: a FakeQuantize behind one moves in front of it
MOVING_OPS = ("Reshape", "Squeeze", "Unsqueeze", "Transpose")
#: ops whose output is on its inputs' quantization grid when they are quantized
GRID_KEEPING_OPS = MOVING_OPS + ("MaxPool", "Concat", "Split", "VariadicSplit", "StridedSlice", "Slice")


@dataclass
class WeightPoint:
    """A weight constant to store as int8: node, input index, output-channel axes."""

    node: Node
    index: int
    axes: tuple[int, ...]


@dataclass
class Placement:
    """The quantization points of a graph."""

    #: activation value -> the (consumer node, input index) pairs that need it quantized
    activations: dict[str, list[tuple[Node, int]]] = field(default_factory=dict)
    weights: list[WeightPoint] = field(default_factory=list)
    #: groups of activations that must share one range (inputs of one Concat)
    shared_ranges: list[set[str]] = field(default_factory=list)
    #: activations read only by depthwise convolutions: a range per channel, which the
    #: depthwise weights absorb (each output channel sees one input channel)
    per_channel: set[str] = field(default_factory=set)
    #: convolutions / MatMuls left in float, with the reason
    left_float: dict[str, str] = field(default_factory=dict)
    #: nodes kept float on request: they read their inputs unquantized
    ignored: set[str] = field(default_factory=set)


def place(graph: Graph, ignored: set[str] | frozenset[str] = frozenset()) -> Placement:
    """Find the quantization points of ``graph`` (shapes and constants known).  Nodes named
    in ``ignored`` get neither int8 weights nor quantized inputs."""
    p = Placement(ignored=set(ignored))

    def activation(name: str) -> bool:
        value = graph.values.get(name)
        return (bool(name) and value is not None and not value.is_const and value.dtype is not None
                and np.issubdtype(value.dtype, np.floating))

    producer = graph.producers()

    def grid_sources(name: str) -> set[str] | None:
        """The placed activations whose grid ``name`` is on: itself if placed, else those of
        the inputs of an op that keeps their grid; None if it is not on a grid (then a
        FakeQuantize goes on it; on a grid, a second one would only requantize)."""
        if name in p.activations:
            return {name}
        node = producer.get(name)
        if node is None or not _keeps_grid(node) or node.name in p.ignored:
            return None
        inputs = [grid_sources(n) for n in node.inputs if activation(n)]
        if not inputs or any(i is None for i in inputs):
            return None
        return set().union(*inputs)

    def use(node: Node, index: int) -> None:
        name = node.inputs[index]
        if name in p.activations or grid_sources(name) is None:
            p.activations.setdefault(name, []).append((node, index))

    for node in graph.nodes:
        t = node.op_type
        if node.name in p.ignored:
            if t in CONV_WEIGHT_AXES or t == "MatMul":
                p.left_float[node.name] = "kept float on request"
            continue
        if t in CONV_WEIGHT_AXES:
            weight = _float_const(graph, node.inputs[1])
            if weight is None or weight.ndim != len(graph.values[node.inputs[0]].shape) + (t.startswith("Group")):
                p.left_float[node.name] = f"{t} weights are not a float constant"
                continue
            if activation(node.inputs[0]):
                use(node, 0)
                p.weights.append(WeightPoint(node, 1, CONV_WEIGHT_AXES[t]))
        elif t == "MatMul":
            const_inputs = [i for i in (0, 1) if _float_const(graph, node.inputs[i]) is not None]
            if const_inputs == [1]:
                use(node, 0)
                rank = graph.values[node.inputs[1]].data.ndim
                column = -2 if node.attrs.get("transpose_b") else -1
                p.weights.append(WeightPoint(node, 1, (rank + column,) if rank >= 2 else ()))
            elif not const_inputs and all(activation(n) for n in node.inputs[:2]):
                use(node, 0)
                use(node, 1)
            else:
                p.left_float[node.name] = "MatMul operands are neither two float activations nor an " \
                                          "activation and a float weight constant"
        elif t in ELTWISE_OPS and len(node.inputs) == 2 and all(activation(n) for n in node.inputs):
            use(node, 0)
            use(node, 1)
        elif t in SINGLE_INPUT_OPS and activation(node.inputs[0]) and (t != "ReduceMean" or _spatial_mean(graph, node)):
            use(node, 0)
        elif t == "Concat":
            inputs = [i for i, n in enumerate(node.inputs) if activation(n)]
            if len(inputs) == len(node.inputs):
                for i in inputs:
                    use(node, i)
                p.shared_ranges.append(set().union(*(grid_sources(n) for n in node.inputs)))
    p.shared_ranges = _merge(p.shared_ranges)
    _hoist_over_moves(graph, p)
    consumers = graph.consumers()
    grouped = set().union(*p.shared_ranges) if p.shared_ranges else set()
    p.per_channel = {value for value in p.activations
                     if value not in graph.outputs and value not in grouped and consumers.get(value)
                     and all(_depthwise(graph, user) for user in consumers[value])}
    return p


def _depthwise(graph: Graph, node: Node) -> bool:
    """A GroupConvolution with one input and one output channel per group."""
    if node.op_type != "GroupConvolution":
        return False
    weights = graph.values.get(node.inputs[1])
    return weights is not None and weights.shape is not None and len(weights.shape) >= 3 \
        and weights.shape[1] == 1 and weights.shape[2] == 1


def _hoist_over_moves(graph: Graph, p: Placement) -> None:
    """Quantize in front of a Reshape/Transpose/... instead of behind it when it is its
    input's only reader: the int8 tensor then moves (LPT carries the dequantization
    through) instead of a float one.  Its readers see the same values either way, since
    moving values commutes with quantizing them."""
    producer, consumers = graph.producers(), graph.consumers()
    grouped = set().union(*p.shared_ranges) if p.shared_ranges else set()
    changed = True
    while changed:
        changed = False
        for value in list(p.activations):
            node = producer.get(value)
            if node is None or node.op_type not in MOVING_OPS or value in graph.outputs or value in grouped:
                continue
            source = node.inputs[0]
            if len(consumers.get(source, [])) != 1 or source in p.activations or source in graph.outputs:
                continue
            if any(user.name in p.ignored for user in consumers.get(value, [])):
                continue  # they read the moved value unquantized
            del p.activations[value]
            p.activations[source] = [(node, 0)]
            changed = True


def _spatial_mean(graph: Graph, node: Node) -> bool:
    """A ReduceMean over spatial axes only (a global average pool, as in squeeze-excitation
    blocks); a mean over channels or features (a layer norm's statistics) stays float."""
    rank = len(graph.values[node.inputs[0]].shape)
    axes = graph.values[node.inputs[1]].data if len(node.inputs) > 1 and node.inputs[1] in graph.values else None
    if axes is None or rank < 3:
        return False
    return all(int(a) % rank >= 2 for a in np.asarray(axes).reshape(-1))


def _keeps_grid(node: Node) -> bool:
    if node.op_type == "Interpolate":
        return str(node.attrs.get("mode", "")).lower() == "nearest"
    return node.op_type in GRID_KEEPING_OPS


def _float_const(graph: Graph, name: str) -> np.ndarray | None:
    value = graph.values.get(name)
    if value is None or not value.is_const or not np.issubdtype(value.data.dtype, np.floating):
        return None
    return value.data


def _merge(groups: list[set[str]]) -> list[set[str]]:
    """Groups that share a member become one group."""
    merged: list[set[str]] = []
    for group in groups:
        group = set(group)
        for other in [m for m in merged if m & group]:
            group |= other
            merged.remove(other)
        merged.append(group)
    return merged
