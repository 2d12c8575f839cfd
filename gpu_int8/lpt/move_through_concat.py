"""Rewrite: Concat of dequantized integer tensors becomes a Concat of the
integers and one dequantization (OpenVINO LPT's ConcatTransformation).

Aligned intervals (every input quantized alike, as NNCF's unified scales
make them) keep their parameters.  Different per-tensor parameters become
per-channel ones along the concat axis, so a following FakeQuantize folds
them into one requantization.  Inputs stored in different types (u8 and i8),
constants, or inputs per-channel on another axis keep the Concat in float.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.lpt.dequantization import match_dequantization
from gpu_int8.lpt.lpt_graph import LptGraph
from gpu_int8.lpt.qparams import QParams


def move_through_concat(g: LptGraph) -> int:
    """Move dequantizations past every Concat whose inputs allow it; returns how many."""
    count = 0
    for node in list(g.graph.nodes):
        if node.op_type != "Concat" or not node.inputs:
            continue
        deqs = [match_dequantization(g, name) for name in node.inputs]
        if any(d is None or d.source_dtype == np.dtype(np.int32) for d in deqs):
            continue
        output = node.outputs[0]
        rank = len(g.shape(output))
        axis = int(node.attrs.get("axis", 0)) % rank
        params = _concat_params(g, node, deqs, axis)
        if isinstance(params, str):
            g.refuse(node, params)
            continue
        node.inputs = [d.source for d in deqs]
        q = g.retarget_output(node, 0, deqs[0].source_dtype)
        g.dequantize(q, params, output, "dequantize")
        g.qparams[q] = params
        g.origins[q] = output
        count += 1
    return count


def _concat_params(g: LptGraph, node, deqs, axis: int) -> QParams | str:
    if len({d.source_dtype for d in deqs}) != 1:
        return "Concat of u8 and i8 inputs"
    if any(d.params is None for d in deqs):
        return "a Concat input dequantization varies along more than one axis"
    first = deqs[0].params
    if all(d.params.same_as(first) for d in deqs) and (first.per_tensor or first.axis != axis):
        return first
    if any(not d.params.per_tensor and d.params.axis != axis for d in deqs):
        return "Concat inputs quantized differently, per channel on another axis"
    scales, zero_points = [], []
    for d in deqs:
        size = g.shape(d.source)[axis]
        scale, zero_point = d.params.full()
        scales.append(np.broadcast_to(scale, (size,)))
        zero_points.append(np.broadcast_to(zero_point, (size,)))
    return QParams(np.concatenate(scales), np.concatenate(zero_points), axis)
