"""Rewrite: move a dequantization past a precision-preserving op, so the op runs
on the stored integers (OpenVINO LPT's MoveDequantizationAfter for MaxPool,
Reshape, Transpose, Squeeze/Unsqueeze, Pad, Split/VariadicSplit, StridedSlice,
Slice, Gather, Interpolate nearest, DepthToSpace, SpaceToDepth, ShuffleChannels,
Broadcast, Tile, ReduceMax/ReduceMin).

    op(Multiply(Subtract(Convert(q), zp), s))  ->  Multiply(Subtract(Convert(op(q)), zp'), s')

Each rule checks the move is exact and maps per-channel parameters to the
op's output axis; it refuses (the op stays in float) when the op mixes
channels of a per-channel dequantization, when MaxPool meets a negative scale,
or when a Pad value has no integer form.
"""

from __future__ import annotations

import math

import numpy as np

from gpu_int8.graph import Node
from gpu_int8.lpt.dequantization import match_dequantization
from gpu_int8.lpt.lpt_graph import LptGraph
from gpu_int8.lpt.qparams import QParams


def move_dequantization(g: LptGraph) -> int:
    """Move dequantizations past every precision-preserving op they can pass; returns how many."""
    count = 0
    for node in list(g.graph.nodes):
        rule = RULES.get(node.op_type)
        if rule is None or not node.inputs:
            continue
        deq = match_dequantization(g, node.inputs[0])
        if deq is None or deq.source_dtype == np.dtype(np.int32):
            continue
        if deq.params is None:
            g.refuse(node, "its input dequantization varies along more than one axis")
            continue
        if any(g.const(name) is None for name in node.inputs[1:] if name):
            continue
        moved = rule(g, node, deq.params, deq.source_dtype)
        if isinstance(moved, str):
            g.refuse(node, moved)
            continue
        _move(g, node, deq.source, moved)
        count += 1
    return count


def _move(g: LptGraph, node: Node, source: str, moved: QParams) -> None:
    """``node`` reads the integers; each of its float outputs gets the dequantization."""
    if node.op_type == "Pad" and str(node.attrs.get("pad_mode", "constant")).lower() == "constant":
        value = g.add_const(f"{node.name}/int_pad_value", int_pad_value(g, node, moved, g.dtype(source)))
        node.inputs[3:] = [value]
    node.inputs[0] = source
    outputs = [0] if node.op_type == "MaxPool" else range(len(node.outputs))
    for index in outputs:
        original = node.outputs[index]
        q = g.retarget_output(node, index, g.dtype(source))
        g.dequantize(q, moved, original, "dequantize")
        g.qparams[q] = moved
        g.origins[q] = original


# -- rules: (graph, node, input params, stored dtype) -> output params, or why not ------------------

def _same(g, node, p, dtype):
    return p


def _positive_scale(g, node, p, dtype):
    if p.per_tensor or p.axis == 1:
        return p if np.all(p.scale > 0) else f"{node.op_type} on a negative dequantization scale"
    return f"{node.op_type} with per-channel dequantization on axis {p.axis}"


def _per_tensor_only(g, node, p, dtype):
    return p if p.per_tensor else f"{node.op_type} mixes the channels of a per-channel dequantization"


def _by_shape(g, node, p, dtype):
    """Reshape-like ops: follow the channel axis through the shapes."""
    if p.per_tensor:
        return p
    moved = p.moved(track_axis(g.shape(node.inputs[0]), g.shape(node.outputs[0]), p.axis))
    return moved if moved is not None else f"{node.op_type} merges or splits the per-channel axis"


def _keeps_axis(g, node, p, dtype):
    """Ops that keep the rank and must not change the per-channel axis."""
    if p.per_tensor:
        return p
    a, b = g.shape(node.inputs[0]), g.shape(node.outputs[0])
    if len(a) == len(b) and a[p.axis] == b[p.axis]:
        return p
    return f"{node.op_type} changes the per-channel axis"


def _transpose(g, node, p, dtype):
    if p.per_tensor:
        return p
    order = [int(v) for v in np.asarray(g.const(node.inputs[1])).reshape(-1)]
    rank = len(g.shape(node.inputs[0]))
    order = order or list(range(rank))[::-1]
    return p.moved([a % rank for a in order].index(p.axis))


def _split(g, node, p, dtype):
    if p.per_tensor:
        return p
    axis = int(np.asarray(g.const(node.inputs[1])).reshape(-1)[0]) % len(g.shape(node.inputs[0]))
    return p if axis != p.axis else f"{node.op_type} cuts the per-channel axis"


def _reduce_extreme(g, node, p, dtype):
    """ReduceMax/ReduceMin: max(s * (q - zp)) = s * (max(q) - zp) for s > 0; the per-channel axis
    must survive the reduction."""
    if not np.all(p.scale > 0):
        return f"{node.op_type} on a negative dequantization scale"
    if p.per_tensor:
        return p
    rank = len(g.shape(node.inputs[0]))
    axes = {int(a) % rank for a in np.asarray(g.const(node.inputs[1])).reshape(-1)}
    if p.axis in axes:
        return f"{node.op_type} reduces the per-channel axis"
    keep = bool(node.attrs.get("keep_dims", False))
    return p.moved(p.axis if keep else p.axis - sum(1 for a in axes if a < p.axis))


def _interpolate(g, node, p, dtype):
    if str(node.attrs.get("mode", "")).lower() != "nearest":
        return "Interpolate other than nearest computes new values"
    return _keeps_axis(g, node, p, dtype)


def _pad(g, node, p, dtype):
    moved = _keeps_axis(g, node, p, dtype)
    if isinstance(moved, str) or str(node.attrs.get("pad_mode", "constant")).lower() != "constant":
        return moved
    value = int_pad_value(g, node, p, dtype)
    return moved if value is not None else "the Pad value has no integer form in this quantization"


def int_pad_value(g: LptGraph, node: Node, p: QParams, dtype) -> np.ndarray | None:
    """The stored integer that reads as the Pad's (real) pad value, if there is one."""
    value = g.const(node.inputs[3]) if len(node.inputs) > 3 and node.inputs[3] else 0.0
    scale, zero_point = p.full()
    q = float(np.asarray(value, np.float64).reshape(())) / scale.astype(np.float64) + zero_point
    info = np.iinfo(dtype)
    if np.all(q == q[0]) and abs(q[0] - round(q[0])) <= 1e-3 and info.min <= round(q[0]) <= info.max:
        return np.asarray(round(q[0]), dtype)
    return None


RULES = {
    "MaxPool": _positive_scale,
    "Reshape": _by_shape, "Squeeze": _by_shape, "Unsqueeze": _by_shape,
    "Transpose": _transpose,
    "Split": _split, "VariadicSplit": _split,
    "StridedSlice": _keeps_axis, "Slice": _keeps_axis, "Gather": _keeps_axis,
    "Interpolate": _interpolate,
    "Pad": _pad,
    "DepthToSpace": _per_tensor_only, "SpaceToDepth": _per_tensor_only, "ShuffleChannels": _per_tensor_only,
    "Broadcast": _per_tensor_only, "Tile": _per_tensor_only,
    "ReduceMax": _reduce_extreme, "ReduceMin": _reduce_extreme,
    "Identity": _same,
}


def track_axis(in_shape: tuple, out_shape: tuple, axis: int) -> int | None:
    """Where axis ``axis`` of ``in_shape`` lands after a reshape to ``out_shape``, if it stays whole."""
    before, size = math.prod(in_shape[:axis]), in_shape[axis]
    for k, dim in enumerate(out_shape):
        if dim == size and math.prod(out_shape[:k]) == before:
            return k
    return None
