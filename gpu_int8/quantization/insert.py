"""Graph edits of the quantizer: FakeQuantize on activations, int8 weights."""

from __future__ import annotations

import numpy as np

from gpu_int8.graph import Graph
from gpu_int8.quantization.placement import Placement, WeightPoint
from gpu_int8.quantization.ranges import fake_quantize_limits

LEVELS = 256
WEIGHT_LIMIT = 127  # weights use the symmetric range -127 .. 127 (255 levels)


def insert_fake_quantize(graph: Graph, placement: Placement, ranges: dict[str, tuple[float, float]]) -> int:
    """A FakeQuantize behind each placed activation that has a range; every consumer reads
    it but the ignored ones (a graph output keeps the float value).  Returns how many were
    inserted."""
    inserted = 0
    for value in placement.activations:
        if value not in ranges:
            continue
        il, ih = fake_quantize_limits(*ranges[value])
        if np.ndim(il):  # per channel: along axis 1 of the activation
            shape = (1, -1) + (1,) * (len(graph.values[value].shape) - 2)
            il, ih = il.reshape(shape), ih.reshape(shape)
        base = graph.unique_name(f"{value}/fq")
        limits = []
        for what, number in (("in_low", il), ("in_high", ih), ("out_low", il), ("out_high", ih)):
            limits.append(graph.add_const(graph.unique_name(f"{base}/{what}"), np.array(number, np.float32)).name)
        graph.add_node("FakeQuantize", [value, *limits], [base], {"levels": LEVELS}, name=base)
        for user in graph.nodes[:-1]:
            if user.name not in placement.ignored:
                user.inputs = [base if name == value else name for name in user.inputs]
        inserted += 1
    graph.toposort()
    return inserted


def insert_int8_weights(graph: Graph, weights: list[WeightPoint]) -> None:
    """Each weight becomes i8 Constant -> Convert -> Multiply(scale per output channel),
    the form NNCF writes and OpenVINO's LPT reads."""
    for point in weights:
        name = point.node.inputs[point.index]
        q, scale = int8_weights(np.asarray(graph.values[name].data, np.float32), point.axes)
        base = graph.unique_name(f"{point.node.name}/weights")
        q_name = graph.add_const(f"{base}/i8", q).name
        scale_name = graph.add_const(f"{base}/scale", scale).name
        as_float = graph.add_node("Convert", [q_name], [f"{base}/f32"], {"destination_type": "f32"},
                                  name=f"{base}/f32")
        dequantized = graph.add_node("Multiply", [as_float.outputs[0], scale_name], [f"{base}/dequantized"],
                                     name=f"{base}/dequantized")
        point.node.inputs[point.index] = dequantized.outputs[0]
    graph.toposort()


def int8_weights(w: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(int8 values, float32 scale shaped to broadcast against ``w``): per output channel
    (the ``axes``) scale = max|w| / 127, values rounded half to even; an all-zero
    channel keeps scale 1."""
    reduce = tuple(a for a in range(w.ndim) if a not in axes)
    amax = np.max(np.abs(w), axis=reduce, keepdims=True) if reduce else np.abs(w)
    scale = np.where(amax > 0, amax / np.float32(WEIGHT_LIMIT), np.float32(1)).astype(np.float32)
    q = np.clip(np.rint(w / scale), -WEIGHT_LIMIT, WEIGHT_LIMIT).astype(np.int8)
    return q, scale


def dequantized_int8_weights(w: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """The float32 values the int8 form of ``w`` stands for (what the quantized model computes with)."""
    q, scale = int8_weights(w, axes)
    return q.astype(np.float32) * scale
