"""Bias correction: fold the mean shift that quantization gives each layer's output back
into its bias, as NNCF's fast bias correction does.

Rounding the weights and clipping the input (the ``mse`` ranges clip the tails on
purpose) move the mean of a convolution's or MatMul's output per channel, and every
later layer inherits that offset.  For each such layer with a constant bias, a pass
over the calibration inputs on the float model records the mean of the layer's input
per channel, before and after its FakeQuantize.  The layer then runs once on an input
filled with the float means and float weights, and once on one filled with the
quantized means and int8 weights; the difference of its output means, per channel, is
added to the bias.  The correction sees the layer's float inputs, not the quantized
model's, so one layer's correction does not depend on another's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpu_int8.graph import Graph, Node
from gpu_int8.ops import get_op
from gpu_int8.quantization.insert import LEVELS, dequantized_int8_weights
from gpu_int8.quantization.placement import MOVING_OPS, Placement, WeightPoint
from gpu_int8.quantization.ranges import fake_quantize_limits


@dataclass
class BiasedLayer:
    """A convolution or MatMul with an int8 weight and a constant bias behind it."""

    node: Node
    weight: WeightPoint
    bias: str  # the bias constant's value name
    in_axis: int  # channel axis of the layer's input
    out_axis: int  # channel axis of its output
    #: FakeQuantize limits of the layer's input (None: it stays float)
    limits: tuple[np.ndarray, np.ndarray] | None = None


def biased_layers(graph: Graph, placement: Placement, ranges: dict) -> list[BiasedLayer]:
    """The layers of ``placement.weights`` whose only reader is an Add of a constant with one
    value per output channel, with the FakeQuantize limits ``ranges`` give their input."""
    consumers, producers = graph.consumers(), graph.producers()
    limits_of: dict[str, tuple] = {}  # per quantized source: one object its readers share
    layers = []
    for point in placement.weights:
        node = point.node
        out = graph.values[node.outputs[0]]
        users = consumers.get(node.outputs[0], [])
        if len(users) != 1 or users[0].op_type != "Add" or out.shape is None:
            continue
        matmul = node.op_type == "MatMul"
        out_axis = len(out.shape) - 1 if matmul else 1
        bias = _channel_constant(graph, users[0], node.outputs[0], out.shape, out_axis, consumers)
        if bias is None:
            continue
        rank = len(graph.values[node.inputs[0]].shape)
        in_axis = (rank - 2 if node.attrs.get("transpose_a") else rank - 1) if matmul else 1
        layer = BiasedLayer(node, point, bias, in_axis, out_axis)
        source = _quantized_source(node.inputs[0], ranges, producers)
        if source is not None:
            if source not in limits_of:
                limits_of[source] = fake_quantize_limits(*ranges[source])
            if np.ndim(limits_of[source][0]) and source != node.inputs[0]:
                continue  # a range per channel does not follow a Reshape/Transpose
            layer.limits = limits_of[source]
        layers.append(layer)
    return layers


def _channel_constant(graph, add, name, shape, axis, consumers) -> str | None:
    """The other input of ``add`` if it is a float constant read only there that holds one
    value per channel of ``name`` along ``axis``."""
    others = [n for n in add.inputs if n != name]
    if len(others) != 1 or not graph.values[others[0]].is_const or len(consumers.get(others[0], [])) != 1:
        return None
    data = np.asarray(graph.values[others[0]].data)
    if not np.issubdtype(data.dtype, np.floating) or data.ndim > len(shape):
        return None
    aligned = (1,) * (len(shape) - data.ndim) + data.shape
    if data.size != shape[axis] or aligned[axis] != shape[axis]:
        return None
    return others[0]


def _quantized_source(name: str, ranges: dict, producers: dict) -> str | None:
    """The activation whose FakeQuantize ``name`` is read through: itself, or the source of a
    Reshape/Transpose chain the FakeQuantize was hoisted over."""
    while name not in ranges:
        node = producers.get(name)
        if node is None or node.op_type not in MOVING_OPS:
            return None
        name = node.inputs[0]
    return name


class InputMeans:
    """Per layer: the sum, per channel, of its input values and of their FakeQuantize, as the
    float reference computes them (pass :meth:`observe` to ``FloatExecutor.run``)."""

    def __init__(self, layers: list[BiasedLayer]):
        self.readers: dict[str, list[BiasedLayer]] = {}
        for layer in layers:
            self.readers.setdefault(layer.node.inputs[0], []).append(layer)
        self.sums: dict[str, list[np.ndarray]] = {}  # by layer name
        self.counts: dict[str, int] = {}

    def observe(self, name: str, array: np.ndarray) -> None:
        quantized_by: dict[tuple, np.ndarray] = {}  # readers of one FakeQuantize share its output
        for layer in self.readers.get(name, []) if array.size else []:
            axes = tuple(a for a in range(array.ndim) if a != layer.in_axis)
            key = (layer.in_axis, id(layer.limits))
            if key not in quantized_by:
                quantized_by[key] = array if layer.limits is None else \
                    _fake_quantize(array, *layer.limits, layer.in_axis)
            quantized = quantized_by[key]
            sums = [np.sum(array, axis=axes, dtype=np.float64), np.sum(quantized, axis=axes, dtype=np.float64)]
            key = layer.node.name
            previous = self.sums.get(key)
            self.sums[key] = sums if previous is None else [p + s for p, s in zip(previous, sums)]
            self.counts[key] = self.counts.get(key, 0) + array.size // array.shape[layer.in_axis]

    def means(self, layer: BiasedLayer) -> tuple[np.ndarray, np.ndarray] | None:
        """(float mean, quantized mean) per channel of the layer's input, or None if no input
        reached it."""
        key = layer.node.name
        if key not in self.sums:
            return None
        float_sum, quantized_sum = self.sums[key]
        return float_sum / self.counts[key], quantized_sum / self.counts[key]


def correct_biases(graph: Graph, layers: list[BiasedLayer], means: InputMeans) -> int:
    """Add each layer's output mean shift to its bias; returns how many biases changed."""
    corrected = 0
    for layer in layers:
        found = means.means(layer)
        if found is None:
            continue
        node, index = layer.node, layer.weight.index
        weight = np.asarray(graph.values[node.inputs[index]].data, np.float32)
        shift = (_output_mean(graph, layer, found[0], weight)
                 - _output_mean(graph, layer, found[1], dequantized_int8_weights(weight, layer.weight.axes)))
        value = graph.values[layer.bias]
        value.data = (np.asarray(value.data) + shift.reshape(np.shape(value.data))).astype(value.data.dtype)
        corrected += 1
    return corrected


def _output_mean(graph: Graph, layer: BiasedLayer, channel_means: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Mean per output channel of the layer run on an input filled with ``channel_means``."""
    node = layer.node
    x = graph.values[node.inputs[0]]
    shape = [1] * len(x.shape)
    shape[layer.in_axis] = -1
    filled = np.broadcast_to(channel_means.astype(np.float32).reshape(shape), x.shape)
    args = [filled] + [weight if i == layer.weight.index else (graph.values[n].data if n else None)
                       for i, n in enumerate(node.inputs[1:], start=1)]
    y = get_op(node.op_type).run(node, *args)[0].astype(np.float64)
    return np.mean(y, axis=tuple(a for a in range(y.ndim) if a != layer.out_axis))


def _fake_quantize(x: np.ndarray, low, high, axis: int) -> np.ndarray:
    """x through the 256-level FakeQuantize [low, high] (per channel along ``axis``)."""
    if np.ndim(low):
        shape = [1] * x.ndim
        shape[axis] = -1
        low, high = np.reshape(low, shape), np.reshape(high, shape)
    node = Node("FakeQuantize", "bias_correction", [], [], {"levels": LEVELS})
    low, high = np.asarray(low, np.float32), np.asarray(high, np.float32)
    return get_op("FakeQuantize").run(node, x, low, high, low, high)[0]
