"""Rewrite: a per-channel dequantization in front of an op that mixes channels
(a dense Convolution, MatMul) is requantized to one scale first, so the op can
still run in int8; the requantization becomes a depthwise 1x1 step (one
multiplier per channel) instead of a float layer between two int8 steps.

    Conv(Multiply(Subtract(Convert(q), zp[c]), s[c]))
      -> Conv(Multiply(Convert(Convert(FakeQuantize(<that>, lo, hi, qmin, qmax))), s'))

[lo, hi] covers every channel's real range (symmetric around 0 for i8, [0, hi]
for u8, so the new zero point is 0); this adds one rounding to the values.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.lpt.dequantization import match_dequantization
from gpu_int8.lpt.lower_convolution import per_group_params
from gpu_int8.lpt.lpt_graph import LptGraph
from gpu_int8.lpt.qparams import QParams
from gpu_int8.ops.element_types import element_type_name


def requantize_per_channel(g: LptGraph) -> int:
    """Insert a per-tensor requantization in front of every op that needs one; returns how many."""
    count = 0
    for node in list(g.graph.nodes):
        if node.op_type not in ("Convolution", "GroupConvolution", "MatMul") or not node.inputs:
            continue
        deq = match_dequantization(g, node.inputs[0])
        if deq is None or deq.params is None or deq.params.per_tensor or \
                deq.source_dtype not in (np.dtype(np.uint8), np.dtype(np.int8)) or not _mixes(g, node, deq.params):
            continue
        _insert(g, node, deq)
        count += 1
    return count


def _mixes(g: LptGraph, node, params: QParams) -> bool:
    """Whether ``node`` combines channels whose dequantizations differ."""
    if node.op_type == "MatMul":
        return True
    weights = match_dequantization(g, node.inputs[1])
    data = g.const(weights.source) if weights is not None else None
    if data is None:
        return False  # float weights: the op stays float anyway
    groups = data.shape[0] if node.op_type == "GroupConvolution" else 1
    return isinstance(per_group_params(params, g.shape(node.inputs[0])[1], groups), str)


def _insert(g: LptGraph, node, deq) -> None:
    scale, zero_point = deq.params.full()
    info = np.iinfo(deq.source_dtype)
    ends = np.stack([(info.min - zero_point) * scale, (info.max - zero_point) * scale])
    lo, hi = float(ends.min()), float(ends.max())
    shape = g.shape(deq.output)
    if lo >= 0:
        dtype, qmin, qmax, il, ih = np.dtype(np.uint8), 0, 255, 0.0, hi
        step = hi / 255
    else:
        a = max(-lo, hi) * 128 / 127  # [-a, a * 127/128]: zero point 0, every channel's range inside
        dtype, qmin, qmax, il, ih = np.dtype(np.int8), -128, 127, -a, a * 127 / 128
        step = a / 128
    fq_out = g.new_value(f"{node.name}/requantize", shape, np.float32)
    consts = [g.add_const(f"{node.name}/requantize_{k}", np.float32(v))
              for k, v in (("il", il), ("ih", ih), ("qmin", qmin), ("qmax", qmax))]
    g.add_node("FakeQuantize", [deq.output, *consts], fq_out, {"levels": 256})
    q = g.new_value(f"{node.name}/requantize_q", shape, dtype)
    g.add_node("Convert", [fq_out], q, {"destination_type": element_type_name(dtype)})
    params = QParams(np.float32(step), np.float32(0))
    real = g.new_value(f"{node.name}/requantized", shape, np.float32)
    g.dequantize(q, params, real, "dequantize")
    g.qparams[q] = params
    node.inputs[0] = real
    g.refusals.pop(node.name, None)
