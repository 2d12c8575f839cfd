"""MaxPool-1/8/14: the maximum of each (dilated, v8+) window; padding never wins.

v8 and v14 have a second output, the index of each maximum flattened over the
data axes from ``axis`` on (``axis`` 0: over the whole tensor), of type
``index_element_type``; it is computed only when the node lists two outputs.
The first maximum in window order wins ties.
"""

from __future__ import annotations

import itertools

import numpy as np

from gpu_int8.ops import spatial
from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.index_dtype import index_dtype


class MaxPool(Op):
    attributes = {
        "kernel": Attr("ints"),
        "strides": Attr("ints", ()),
        "dilations": Attr("ints", ()),
        "pads_begin": Attr("ints", ()),
        "pads_end": Attr("ints", ()),
        "rounding_type": Attr("str", "floor"),
        "auto_pad": Attr("str", "explicit"),
        "index_element_type": Attr("dtype", "i64"),
        "axis": Attr("int", 0),
    }

    @classmethod
    def _geometry(cls, node, x_shape):
        return spatial.pool_attributes(node, cls, x_shape, dilated=True)

    @classmethod
    def run(cls, node, x):
        kernel, strides, dilations, pads_begin, pads_end, out = cls._geometry(node, x.shape)
        lowest = -np.inf if np.issubdtype(x.dtype, np.floating) else np.iinfo(x.dtype).min
        xp = spatial.pad_spatial(x, pads_begin, pads_end, lowest)
        xp = spatial.fit_to_windows(xp, kernel, strides, dilations, out, lowest)
        with_indices = len(node.outputs) > 1
        best = best_index = None
        for tap in itertools.product(*(range(k) for k in kernel)):
            window = xp[(slice(None), slice(None)) + spatial.tap_slices(tap, strides, dilations, out)]
            if best is None:
                best = window.copy()
                if with_indices:
                    best_index = np.broadcast_to(cls._tap_index(node, x.shape, tap, strides, dilations, pads_begin,
                                                                out), best.shape).copy()
                continue
            if with_indices:
                better = window > best
                best_index[better] = np.broadcast_to(cls._tap_index(node, x.shape, tap, strides, dilations,
                                                                    pads_begin, out), best.shape)[better]
            np.maximum(best, window, out=best)
        if not with_indices:
            return (best,)
        return best, best_index.astype(index_dtype(cls.attr(node, "index_element_type")))

    @classmethod
    def _tap_index(cls, node, x_shape, tap, strides, dilations, pads_begin, out) -> np.ndarray:
        """Flat index (over axes ``axis``..) of the input element tap ``tap`` reads for each output."""
        rank = len(x_shape)
        axis = cls.attr(node, "axis")
        axis = axis + rank if axis < 0 else axis
        if not 0 <= axis <= 2:
            raise ValueError(f"MaxPool axis {axis} must address the batch, channel or first spatial axis")
        elem_strides = np.cumprod((1,) + tuple(x_shape[:0:-1]))[::-1]  # elements per step of each axis
        index = np.zeros((1, 1) + tuple(out), dtype=np.int64)
        for i, (t, s, d, b, o) in enumerate(zip(tap, strides, dilations, pads_begin, out)):
            coord = np.arange(o, dtype=np.int64) * s + t * d - b
            index = index + (coord * elem_strides[2 + i]).reshape((1, 1) + tuple(
                o if j == i else 1 for j in range(len(out))))
        if axis <= 1:
            channel = np.arange(x_shape[1], dtype=np.int64) * elem_strides[1]
            index = index + channel.reshape((1, -1) + (1,) * len(out))
        if axis == 0:
            batch = np.arange(x_shape[0], dtype=np.int64) * elem_strides[0]
            index = index + batch.reshape((-1, 1) + (1,) * len(out))
        return index

    @classmethod
    def infer(cls, node, inputs):
        x = inputs[0]
        *_, out = cls._geometry(node, x.shape)
        shape = tuple(x.shape[:2]) + out
        return [(shape, x.dtype), (shape, index_dtype(cls.attr(node, "index_element_type")))]
