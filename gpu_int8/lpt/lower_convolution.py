"""Rewrite: Convolution / GroupConvolution / ConvolutionBackpropData on
dequantized int8 data and int8 weights runs on the integers, and the
dequantization moves after it (OpenVINO LPT's ConvolutionTransformation).

    Conv((Convert(x) - zp_a) * s_a, (Convert(W) - zp_w) * s_w[o])
      -> (Convert(Conv(x, W - zp_w)) - comp[o]) * (s_a * s_w[o]),   comp[o] = zp_a * sum(W[o] - zp_w[o])

Conv(x, W) accumulates in int32.  The activation zero point costs no work per
element: its share is the precomputed comp[o]; the borders stay exact because
the integers are padded with zp_a (an explicit Pad, fused into the step by the
schedule builder).  The activation scale must be one per tensor (one per group
for grouped and depthwise convolution); transposed convolution needs zp_a = 0.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.lpt.dequantization import match_dequantization
from gpu_int8.lpt.int8_weights import int8_weights
from gpu_int8.lpt.lpt_graph import LptGraph
from gpu_int8.lpt.qparams import QParams
from gpu_int8.ops import get_op

#: op type -> the weight axes that enumerate output channels
OUT_AXES = {
    "Convolution": (0,),
    "GroupConvolution": (0, 1),
    "ConvolutionBackpropData": (1,),
    "GroupConvolutionBackpropData": (0, 2),
}


def lower_convolution(g: LptGraph) -> int:
    """Lower every quantized convolution to int8; returns how many."""
    count = 0
    for node in list(g.graph.nodes):
        if node.op_type not in OUT_AXES:
            continue
        reason = _lower(g, node)
        if reason is None:
            count += 1
        elif reason:
            g.refuse(node, reason)
    return count


def _lower(g: LptGraph, node) -> str | None:
    deq = match_dequantization(g, node.inputs[0])
    if deq is None or deq.source_dtype not in (np.dtype(np.uint8), np.dtype(np.int8)):
        return "its input is not quantized (no FakeQuantize in front of it)"
    if deq.params is None:
        return "its input dequantization varies along more than one axis"
    weights = int8_weights(g, node.inputs[1], OUT_AXES[node.op_type])
    if isinstance(weights, str):
        return weights
    grouped = node.op_type.startswith("Group")
    transposed = node.op_type.endswith("BackpropData")
    w = weights.values
    groups = w.shape[0] if grouped else 1
    channels = g.shape(node.inputs[0])[1]
    per_group = per_group_params(deq.params, channels, groups)
    if isinstance(per_group, str):
        return per_group
    scale_g, zp_g = per_group
    out_channels = weights.scale.size
    group_of = np.repeat(np.arange(groups), out_channels // groups)
    scale = (scale_g[group_of] * weights.scale).astype(np.float32)
    zp = zp_g[group_of]
    has_zp = bool(np.any(zp != 0))
    if transposed and has_zp:
        return "a transposed convolution needs a zero point of 0 on its input"
    pad_value = None
    if has_zp and not transposed:
        x_shape = g.shape(node.inputs[0])
        _, _, _, pads_begin, pads_end, _ = get_op(node.op_type).geometry(node, x_shape, w.shape)
        if any(pads_begin) or any(pads_end):
            if np.any(zp_g != zp_g[0]) or zp_g[0] != np.rint(zp_g[0]):
                return "its input zero point is not one integer, so padded borders have no exact int8 form"
            pad_value = (pads_begin, pads_end, int(zp_g[0]))
    source = deq.source
    if pad_value is not None:
        source = _insert_pad(g, node, source, *pad_value)
    node.inputs[0] = source
    node.inputs[1] = g.add_const(f"{node.name}/int8_weights", w)
    output = node.outputs[0]
    acc = g.retarget_output(node, 0, np.int32, base=f"{output}/acc")
    rank = len(g.shape(output))
    comp = None
    if has_zp:  # forward convolutions only: sums over each output channel's weights
        sums = w.reshape(out_channels, -1).sum(axis=1, dtype=np.int64)
        exact = np.all(zp == np.rint(zp))
        comp = (np.rint(zp).astype(np.int64) * sums).astype(np.int32) if exact else (zp * sums).astype(np.float32)
        comp = _channel_const(comp, rank)
    g.dequantize_with(acc, comp, _channel_const(scale, rank), output, "dequantize")
    return None


def per_group_params(params: QParams, channels: int, groups: int):
    """Activation (scale, zero point) per group, or why the data's quantization does not factor out."""
    scale, zp = params.full()
    if params.per_tensor:
        return np.repeat(scale, groups), np.repeat(zp, groups)
    if params.axis != 1 or scale.size != channels:
        return f"its input is quantized per channel along axis {params.axis}"
    scale, zp = scale.reshape(groups, -1), zp.reshape(groups, -1)
    if np.any(scale != scale[:, :1]) or np.any(zp != zp[:, :1]):
        return "its input is quantized per channel, which a convolution that mixes channels cannot factor out"
    return scale[:, 0], zp[:, 0]


def _insert_pad(g: LptGraph, node, source: str, pads_begin, pads_end, value: int) -> str:
    """Pad the integers with the zero point; the convolution then pads nothing."""
    shape = g.shape(source)
    padded = tuple(shape[:2]) + tuple(n + b + e for n, b, e in zip(shape[2:], pads_begin, pads_end))
    out = g.new_value(f"{node.name}/pad_zero_point", padded, g.dtype(source))
    begin = g.add_const(f"{node.name}/pads_begin", np.array([0, 0, *pads_begin], np.int64))
    end = g.add_const(f"{node.name}/pads_end", np.array([0, 0, *pads_end], np.int64))
    pad_value = g.add_const(f"{node.name}/pad_value", np.asarray(value, g.dtype(source)))
    g.add_node("Pad", [source, begin, end, pad_value], out, {"pad_mode": "constant"})
    node.attrs.update(pads_begin=[0] * len(pads_begin), pads_end=[0] * len(pads_end), auto_pad="explicit")
    if source in g.qparams:
        g.qparams[out] = g.qparams[source]
    return out


def _channel_const(vector: np.ndarray, rank: int) -> np.ndarray:
    return np.asarray(vector).reshape((1, -1) + (1,) * (rank - 2))
