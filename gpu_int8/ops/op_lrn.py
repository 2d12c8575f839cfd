"""LRN-1: ``x / (bias + alpha / size**len(axes) * sum(x**2 over the window))**beta``.

The window on each axis of the ``axes`` input runs from ``i - (size - 1) // 2``
to ``i + (size - 1) // 2`` (so an even size covers size - 1 elements, as
OpenVINO computes it), cut at the tensor's edges.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import spatial
from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.reduce_common import normalize_axes


def window_sum(x: np.ndarray, axis: int, before: int, after: int) -> np.ndarray:
    """Sum of ``x[i - before .. i + after]`` along ``axis``, cut at the ends (cumulative sums)."""
    n = x.shape[axis]
    csum = np.cumsum(x, axis=axis, dtype=np.float64)
    csum = np.concatenate([np.zeros_like(np.take(csum, [0], axis=axis)), csum], axis=axis)
    index = np.arange(n)
    hi = np.minimum(index + after + 1, n)
    lo = np.maximum(index - before, 0)
    return np.take(csum, hi, axis=axis) - np.take(csum, lo, axis=axis)


class LRN(Op):
    attributes = {"alpha": Attr("float"), "beta": Attr("float"), "bias": Attr("float"), "size": Attr("int")}

    @classmethod
    def run(cls, node, x, axes):
        axes = normalize_axes(axes, x.ndim)
        size = cls.attr(node, "size")
        xf = spatial.float_input(x)
        total = np.square(xf, dtype=np.float64)
        for axis in axes:
            total = window_sum(total, axis, (size - 1) // 2, (size - 1) // 2)
        alpha = cls.attr(node, "alpha") / size ** len(axes)
        y = xf / np.power(cls.attr(node, "bias") + alpha * total, cls.attr(node, "beta"))
        return (y.astype(x.dtype, copy=False),)

    @classmethod
    def infer(cls, node, inputs):
        x, axes = inputs
        if axes.is_const:
            normalize_axes(axes.data, len(x.shape))
        return [(x.shape, x.dtype)]
