"""NormalizeL2-1: ``x / sqrt(sum(x**2 over axes) + eps)`` (eps_mode add) or
``x / sqrt(max(sum, eps))`` (eps_mode max).  Empty axes divide each element by
itself: 1, or 0 where it is 0 (OpenVINO's reference).

OpenVINO's CPU plugin computes eps_mode max as add; this follows the spec.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import spatial
from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.reduce_common import normalize_axes


class NormalizeL2(Op):
    attributes = {"eps": Attr("float"), "eps_mode": Attr("str")}

    @classmethod
    def run(cls, node, x, axes):
        axes = normalize_axes(axes, x.ndim)
        xf = spatial.float_input(x)
        if not axes:
            return ((xf != 0).astype(x.dtype),)
        total = np.sum(np.square(xf), axis=axes, keepdims=True)
        eps = np.asarray(cls.attr(node, "eps"), dtype=xf.dtype)
        mode = str(cls.attr(node, "eps_mode")).lower()
        if mode not in ("add", "max"):
            raise ValueError(f"eps_mode '{mode}' is not add or max")
        y = xf / np.sqrt(total + eps if mode == "add" else np.maximum(total, eps))
        return (y.astype(x.dtype, copy=False),)

    @classmethod
    def infer(cls, node, inputs):
        x, axes = inputs
        if axes.is_const:
            normalize_axes(axes.data, len(x.shape))
        return [(x.shape, x.dtype)]
