"""AvgPool-1/14: the mean of each window.  ``exclude-pad`` divides by the number
of real (non-padding) elements in the window; otherwise by the window size,
cut where a ceil-rounded last window runs past pads_end."""

from __future__ import annotations

import itertools

import numpy as np

from gpu_int8.ops import spatial
from gpu_int8.ops.base import Attr, Op


class AvgPool(Op):
    attributes = {
        "kernel": Attr("ints"),
        "strides": Attr("ints", ()),
        "pads_begin": Attr("ints", ()),
        "pads_end": Attr("ints", ()),
        "exclude-pad": Attr("bool", False),
        "rounding_type": Attr("str", "floor"),
        "auto_pad": Attr("str", "explicit"),
    }

    @classmethod
    def run(cls, node, x):
        kernel, strides, dilations, pads_begin, pads_end, out = spatial.pool_attributes(node, cls, x.shape, False)
        xf = spatial.float_input(x)
        xp = spatial.pad_spatial(xf, pads_begin, pads_end, 0)
        xp = spatial.fit_to_windows(xp, kernel, strides, dilations, out, 0)
        total = np.zeros(x.shape[:2] + out, dtype=xf.dtype)
        for tap in itertools.product(*(range(k) for k in kernel)):
            total += xp[(slice(None), slice(None)) + spatial.tap_slices(tap, strides, dilations, out)]
        divisor = np.ones((), dtype=xf.dtype)
        exclude = cls.attr(node, "exclude-pad")
        for n, k, s, b, e, o in zip(x.shape[2:], kernel, strides, pads_begin, pads_end, out):
            start = np.arange(o) * s - b
            stop = np.minimum(start + k, n + e)
            count = np.minimum(stop, n) - np.maximum(start, 0) if exclude else stop - start
            divisor = np.multiply.outer(divisor, np.maximum(count, 1).astype(xf.dtype))
        return ((total / divisor).astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32),)

    @classmethod
    def infer(cls, node, inputs):
        x = inputs[0]
        *_, out = spatial.pool_attributes(node, cls, x.shape, False)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
        return [(tuple(x.shape[:2]) + out, dtype)]
