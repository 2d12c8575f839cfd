"""Convolution-1: ``x [N, C, *S]`` with filters ``[O, C, *k]``; strides, dilations,
pads_begin/pads_end and auto_pad per OpenVINO (see :mod:`gpu_int8.ops.spatial`)."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import conv_math, spatial
from gpu_int8.ops.base import Attr, Op

WINDOW_ATTRS = {
    "strides": Attr("ints", ()),
    "dilations": Attr("ints", ()),
    "pads_begin": Attr("ints", ()),
    "pads_end": Attr("ints", ()),
    "auto_pad": Attr("str", "explicit"),
}


class Convolution(Op):
    attributes = dict(WINDOW_ATTRS)

    @classmethod
    def grouped_filters_shape(cls, w_shape: tuple) -> tuple:
        """Filters as ``[G, O/G, C/G, *k]``."""
        return (1,) + tuple(w_shape)

    @classmethod
    def geometry(cls, node, x_shape: tuple, w_shape: tuple):
        """``(grouped filter shape, strides, dilations, pads_begin, pads_end, out_sizes)``."""
        rank = len(x_shape) - 2
        grouped = cls.grouped_filters_shape(w_shape)
        if rank < 1 or len(grouped) != rank + 3:
            raise ValueError(f"data {list(x_shape)} and filters {list(w_shape)} ranks do not fit")
        groups, in_per_group = grouped[0], grouped[2]
        if x_shape[1] != groups * in_per_group:
            raise ValueError(f"data has {x_shape[1]} channels, filters {list(w_shape)} expect "
                             f"{groups * in_per_group}")
        strides = spatial.per_axis(cls.attr(node, "strides"), rank, 1, "strides")
        dilations = spatial.per_axis(cls.attr(node, "dilations"), rank, 1, "dilations")
        pads_begin = spatial.per_axis(cls.attr(node, "pads_begin"), rank, 0, "pads_begin")
        pads_end = spatial.per_axis(cls.attr(node, "pads_end"), rank, 0, "pads_end")
        pads_begin, pads_end, out = spatial.window_geometry(
            x_shape[2:], grouped[3:], strides, dilations, pads_begin, pads_end, cls.attr(node, "auto_pad"))
        return grouped, strides, dilations, pads_begin, pads_end, out

    @classmethod
    def run(cls, node, x, w):
        grouped, strides, dilations, pads_begin, pads_end, out = cls.geometry(node, x.shape, w.shape)
        y = conv_math.grouped_convolution(spatial.float_input(x), spatial.float_input(w).reshape(grouped),
                                          strides, dilations, pads_begin, pads_end, out)
        return (y.astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32, copy=False),)

    @classmethod
    def infer(cls, node, inputs):
        x, w = inputs[0], inputs[1]
        grouped, *_, out = cls.geometry(node, x.shape, w.shape)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
        return [((x.shape[0], grouped[0] * grouped[1]) + out, dtype)]
