"""Weights in NNCF's form (int8 Constant -> Convert -> [Subtract] -> Multiply)
as int8 values and one scale per output channel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpu_int8.lpt.dequantization import match_dequantization
from gpu_int8.lpt.lpt_graph import LptGraph


@dataclass
class Int8Weights:
    """weights == values * scale[o] along the output-channel axes ``out_axes`` (flattened in order)."""

    values: np.ndarray  # int8, the layout of the original constant
    scale: np.ndarray  # float32 [O]


def int8_weights(g: LptGraph, value: str, out_axes: tuple[int, ...]) -> Int8Weights | str:
    """The int8 form of the weight input ``value``, or why it has none.

    A weight zero point is folded into the values when the difference still fits int8.
    """
    deq = match_dequantization(g, value)
    if deq is None:
        return "its weights are not quantized (no int8 constant with a dequantization)"
    data = g.const(deq.source)
    if data is None or deq.source_dtype not in (np.dtype(np.int8), np.dtype(np.uint8)):
        return "its weights are not an int8 constant"
    shape = data.shape
    scale = _per_output(deq.scale, shape, out_axes, 1.0)
    zero_point = _per_output(deq.zero_point, shape, out_axes, 0.0)
    if scale is None or zero_point is None:
        return "its weight dequantization is not per output channel"
    if not np.all(np.isfinite(scale)):
        return "its weight scale is not finite"
    zp_full = _expand(zero_point, shape, out_axes)
    values = data.astype(np.float64) - zp_full
    if not np.all(values == np.rint(values)) or values.min() < -128 or values.max() > 127:
        return "its weight zero point does not leave int8 values"
    return Int8Weights(values.astype(np.int8), scale.astype(np.float32))


def _per_output(const, shape: tuple, out_axes: tuple[int, ...], default: float) -> np.ndarray | None:
    """A constant broadcasting against weights of ``shape`` as a vector over the output axes."""
    size = int(np.prod([shape[a] for a in out_axes]))
    if const is None:
        return np.full(size, default, np.float64)
    const = np.asarray(const, np.float64)
    if const.ndim > len(shape):
        return None
    const = const.reshape((1,) * (len(shape) - const.ndim) + const.shape)
    if any(d != 1 and a not in out_axes for a, d in enumerate(const.shape)):
        return None
    target = tuple(shape[a] if a in out_axes else 1 for a in range(len(shape)))
    try:
        return np.broadcast_to(const, target).reshape(-1).copy()
    except ValueError:
        return None


def _expand(vector: np.ndarray, shape: tuple, out_axes: tuple[int, ...]) -> np.ndarray:
    """A per-output vector shaped to broadcast against weights of ``shape``."""
    target = tuple(shape[a] if a in out_axes else 1 for a in range(len(shape)))
    return vector.reshape(target)
