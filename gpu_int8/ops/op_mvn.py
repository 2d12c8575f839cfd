"""MVN (mean-variance normalization).

v6 (``attrs["opset"]`` 6, the default): data and an ``axes`` input;
``eps_mode`` inside_sqrt divides by ``sqrt(var + eps)``, outside_sqrt by
``sqrt(var) + eps``.  v0 (opset2 IR): no axes input; ``reduction_axes`` or else
``across_channels`` (axes 1.. or 2..) choose the axes; eps inside the root.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import spatial
from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.reduce_common import normalize_axes


class MVN(Op):
    attributes = {
        "normalize_variance": Attr("bool", True),
        "eps": Attr("float", 1e-9),
        "eps_mode": Attr("str", "inside_sqrt"),
        "across_channels": Attr("bool", False),
        "reduction_axes": Attr("ints", ()),
    }

    @classmethod
    def axes_and_mode(cls, node, rank: int, axes) -> tuple[tuple[int, ...], str]:
        """The normalized axes and the eps mode of ``node`` for a rank-``rank`` input."""
        if axes is not None:
            mode = str(cls.attr(node, "eps_mode")).lower()
            if mode not in ("inside_sqrt", "outside_sqrt"):
                raise ValueError(f"eps_mode '{mode}' is not inside_sqrt or outside_sqrt")
            return normalize_axes(axes, rank), mode
        listed = cls.attr(node, "reduction_axes")
        if listed:
            return normalize_axes(listed, rank), "inside_sqrt"
        first = 1 if cls.attr(node, "across_channels") else 2
        return tuple(range(first, rank)), "inside_sqrt"

    @classmethod
    def run(cls, node, x, axes=None):
        axes, mode = cls.axes_and_mode(node, x.ndim, axes)
        xf = spatial.float_input(x)
        centered = xf - np.mean(xf, axis=axes, keepdims=True)
        if cls.attr(node, "normalize_variance"):
            variance = np.mean(np.square(centered), axis=axes, keepdims=True)
            eps = cls.attr(node, "eps")
            centered = centered / (np.sqrt(variance + eps) if mode == "inside_sqrt" else np.sqrt(variance) + eps)
        return (centered.astype(x.dtype, copy=False),)

    @classmethod
    def infer(cls, node, inputs):
        x = inputs[0]
        axes = inputs[1] if len(inputs) > 1 else None
        if axes is not None and axes.is_const:
            cls.axes_and_mode(node, len(x.shape), axes.data)
        return [(x.shape, x.dtype)]
