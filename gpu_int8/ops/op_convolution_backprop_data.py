"""ConvolutionBackpropData-1 (transposed convolution): ``x [N, Ci, *S]``,
filters ``[Ci, Co, *k]``, optional ``output_shape`` (spatial sizes).

Output ``s*(S-1) + d*(k-1) + 1 + output_padding - pads_begin - pads_end``.
auto_pad same_upper/same_lower/valid zero the pads, unless ``output_shape`` is
given: then the output has that size and starts after pads_begin, which same_*
derive from it (same_upper puts the odd pad at the beginning, unlike forward
convolution) and pads_end is ignored.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import conv_math, spatial
from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.op_convolution import WINDOW_ATTRS


class ConvolutionBackpropData(Op):
    attributes = {**WINDOW_ATTRS, "output_padding": Attr("ints", ())}

    @classmethod
    def grouped_filters_shape(cls, w_shape: tuple) -> tuple:
        """Filters as ``[G, Ci/G, Co/G, *k]``."""
        return (1,) + tuple(w_shape)

    @classmethod
    def geometry(cls, node, x_shape: tuple, w_shape: tuple, output_shape):
        """``(grouped filters, strides, dilations, pads_begin, pads_end, output_padding, out_sizes)``."""
        rank = len(x_shape) - 2
        grouped = cls.grouped_filters_shape(w_shape)
        if rank < 1 or len(grouped) != rank + 3:
            raise ValueError(f"data {list(x_shape)} and filters {list(w_shape)} ranks do not fit")
        if x_shape[1] != grouped[0] * grouped[1]:
            raise ValueError(f"data has {x_shape[1]} channels, filters {list(w_shape)} expect "
                             f"{grouped[0] * grouped[1]}")
        strides = spatial.per_axis(cls.attr(node, "strides"), rank, 1, "strides")
        dilations = spatial.per_axis(cls.attr(node, "dilations"), rank, 1, "dilations")
        pads_begin = spatial.per_axis(cls.attr(node, "pads_begin"), rank, 0, "pads_begin")
        pads_end = spatial.per_axis(cls.attr(node, "pads_end"), rank, 0, "pads_end")
        output_padding = spatial.per_axis(cls.attr(node, "output_padding"), rank, 0, "output_padding")
        auto_pad = spatial.check_auto_pad(cls.attr(node, "auto_pad"))
        natural = [s * (n - 1) + d * (k - 1) + 1 + p
                   for n, k, s, d, p in zip(x_shape[2:], grouped[3:], strides, dilations, output_padding)]
        if output_shape is not None:
            wanted = [int(v) for v in np.asarray(output_shape).reshape(-1)]
            if len(wanted) != rank:
                raise ValueError(f"output_shape {wanted} must give {rank} spatial sizes")
            if auto_pad in ("same_upper", "same_lower"):
                totals = [max(0, m - o) for m, o in zip(natural, wanted)]
                pads_begin = [t - t // 2 if auto_pad == "same_upper" else t // 2 for t in totals]
            elif auto_pad == "valid":
                pads_begin = (0,) * rank
            # the output starts after pads_begin and runs for output_shape (zeros past the data)
            pads_end = [m - b - o for m, b, o in zip(natural, pads_begin, wanted)]
            out = tuple(wanted)
        else:
            if auto_pad != "explicit" and auto_pad != "notset":
                pads_begin = pads_end = (0,) * rank
            out = tuple(m - b - e for m, b, e in zip(natural, pads_begin, pads_end))
        if any(o < 1 for o in out):
            raise ValueError(f"output spatial sizes {list(out)} are not positive")
        return grouped, strides, dilations, tuple(pads_begin), tuple(pads_end), output_padding, out

    @classmethod
    def run(cls, node, x, w, output_shape=None):
        grouped, strides, dilations, pads_begin, pads_end, output_padding, out = cls.geometry(
            node, x.shape, w.shape, output_shape)
        y = conv_math.grouped_transposed_convolution(
            spatial.float_input(x), spatial.float_input(w).reshape(grouped), strides, dilations,
            pads_begin, pads_end, output_padding)
        return (y.astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32, copy=False),)

    @classmethod
    def infer(cls, node, inputs):
        x, w = inputs[0], inputs[1]
        shape_in = inputs[2] if len(inputs) > 2 else None
        if shape_in is not None and not shape_in.is_const:
            raise ValueError("output_shape must be a constant")
        grouped, *_, out = cls.geometry(node, x.shape, w.shape, None if shape_in is None else shape_in.data)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
        return [((x.shape[0], grouped[0] * grouped[2]) + out, dtype)]
