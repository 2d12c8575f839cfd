"""Rewrite: MatMul on dequantized int8 inputs runs on the integers, the
dequantization moves after it (OpenVINO LPT's MatMulTransformation).

With int8 weights (a constant [K, N], or [N, K] with transpose_b):

    MatMul((Convert(a) - zp_a) * s_a, (Convert(W) - zp_w) * s_w[n])
      -> (Convert(MatMul(a, W - zp_w)) - comp[n]) * (s_a * s_w[n]),   comp[n] = zp_a * sum_k(W - zp_w)[k, n]

With two int8 activations (attention-style), both must be quantized per
tensor with zero point 0: MatMul(a, b) * (s_a * s_b).
"""

from __future__ import annotations

import numpy as np

from gpu_int8.lpt.dequantization import match_dequantization
from gpu_int8.lpt.int8_weights import int8_weights
from gpu_int8.lpt.lpt_graph import LptGraph


def lower_matmul(g: LptGraph) -> int:
    """Lower every quantized MatMul to int8; returns how many."""
    count = 0
    for node in list(g.graph.nodes):
        if node.op_type != "MatMul":
            continue
        reason = _lower(g, node)
        if reason is None:
            count += 1
        else:
            g.refuse(node, reason)
    return count


def _lower(g: LptGraph, node) -> str | None:
    a_deq = match_dequantization(g, node.inputs[0])
    if a_deq is None or a_deq.source_dtype not in (np.dtype(np.uint8), np.dtype(np.int8)):
        return "its first input is not quantized (no FakeQuantize in front of it)"
    if a_deq.params is None or not a_deq.params.per_tensor:
        return "its first input is not quantized per tensor"
    a_rank, b_rank = len(g.shape(node.inputs[0])), len(g.shape(node.inputs[1]))
    if a_rank < 2 or b_rank < 2:
        return "a 1-D MatMul operand"
    output = node.outputs[0]
    rank = len(g.shape(output))
    s_a, zp_a = (float(v[0]) for v in a_deq.params.full())
    if g.const(_source(g, node.inputs[1])) is not None:
        if b_rank != 2:
            return "its weights are not a matrix"
        transpose_b = bool(node.attrs.get("transpose_b", False))
        weights = int8_weights(g, node.inputs[1], (0,) if transpose_b else (1,))
        if isinstance(weights, str):
            return weights
        w = weights.values
        scale = (np.float32(s_a) * weights.scale).astype(np.float32)
        comp = None
        if zp_a != 0:
            sums = w.astype(np.int64).sum(axis=1 if transpose_b else 0)
            comp = (int(zp_a) * sums).astype(np.int32) if zp_a == round(zp_a) else (zp_a * sums).astype(np.float32)
            comp = comp.reshape((1,) * (rank - 1) + (-1,))
        node.inputs = [a_deq.source, g.add_const(f"{node.name}/int8_weights", w)]
        acc = g.retarget_output(node, 0, np.int32, base=f"{output}/acc")
        g.dequantize_with(acc, comp, scale.reshape((1,) * (rank - 1) + (-1,)), output, "dequantize")
        return None
    b_deq = match_dequantization(g, node.inputs[1])
    if b_deq is None or b_deq.source_dtype not in (np.dtype(np.uint8), np.dtype(np.int8)):
        return "its second input is not quantized (no FakeQuantize in front of it)"
    if b_deq.params is None or not b_deq.params.per_tensor:
        return "its second input is not quantized per tensor"
    if a_deq.params.has_zero_point or b_deq.params.has_zero_point:
        return "a MatMul of two activations needs zero points of 0"
    s_b = float(b_deq.params.scale[0])
    node.inputs = [a_deq.source, b_deq.source]
    acc = g.retarget_output(node, 0, np.int32, base=f"{output}/acc")
    g.dequantize_with(acc, None, np.asarray(np.float32(s_a) * np.float32(s_b), np.float32), output, "dequantize")
    return None


def _source(g: LptGraph, value: str) -> str:
    """The integer constant behind a weight dequantization (or ``value`` itself)."""
    deq = match_dequantization(g, value)
    return deq.source if deq is not None else value
