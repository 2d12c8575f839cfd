"""Broadcast (v1 and v3): ``data`` expanded to ``target_shape``.

``mode`` numpy: data broadcasts to exactly target_shape; bidirectional (v3):
the output is the NumPy broadcast of both shapes (ONNX Expand); explicit:
``axes_mapping`` names, for each data axis, the output axis it lands on.
"""

import numpy as np

from gpu_int8.ops.base import Attr
from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list


class Broadcast(_ShapeParamsOp):
    attributes = {"mode": Attr("str", "numpy")}
    shape_inputs = (1, 2)

    @classmethod
    def run(cls, node, data, target_shape, axes_mapping=None):
        target = tuple(int_list(target_shape))
        if any(d < 0 for d in target):
            raise ValueError(f"target shape {list(target)} has a negative dimension")
        mode = str(cls.attr(node, "mode")).lower()
        if mode == "numpy":
            return (np.broadcast_to(data, target).copy(),)
        if mode == "bidirectional":
            return (np.broadcast_to(data, np.broadcast_shapes(data.shape, target)).copy(),)
        if mode == "explicit":
            if axes_mapping is None:
                raise ValueError("Broadcast mode explicit needs the axes_mapping input")
            axes = int_list(axes_mapping)
            if len(axes) != data.ndim or sorted(axes) != axes or len(set(axes)) != len(axes) \
                    or any(not 0 <= a < len(target) for a in axes):
                raise ValueError(f"axes_mapping {axes} must name {data.ndim} increasing axes of rank {len(target)}")
            shape = [1] * len(target)
            for dim, axis in zip(data.shape, axes):
                shape[axis] = dim
            return (np.broadcast_to(data.reshape(shape), target).copy(),)
        raise ValueError(f"Broadcast mode {mode!r} is not supported (numpy, bidirectional, explicit)")
