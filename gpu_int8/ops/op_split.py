"""Split: cut ``data`` into ``num_splits`` equal parts along the ``axis`` input."""

import numpy as np

from gpu_int8.ops.base import Attr
from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list, normalize_axis


class Split(_ShapeParamsOp):
    attributes = {"num_splits": Attr("int")}
    shape_inputs = (1,)

    @classmethod
    def run(cls, node, data, axis):
        (axis,) = int_list(axis)
        axis = normalize_axis(axis, data.ndim)
        parts = int(cls.attr(node, "num_splits"))
        if parts <= 0 or data.shape[axis] % parts:
            raise ValueError(f"dimension {data.shape[axis]} of axis {axis} does not split into {parts} equal parts")
        return tuple(np.split(data, parts, axis=axis))
