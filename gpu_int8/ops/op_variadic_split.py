"""VariadicSplit: cut ``data`` along ``axis`` into parts of ``split_lengths``
(one entry may be -1: the rest of the dimension)."""

import numpy as np

from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list, normalize_axis


class VariadicSplit(_ShapeParamsOp):
    shape_inputs = (1, 2)

    @classmethod
    def run(cls, node, data, axis, split_lengths):
        (axis,) = int_list(axis)
        axis = normalize_axis(axis, data.ndim)
        lengths = int_list(split_lengths)
        size = data.shape[axis]
        if lengths.count(-1) > 1 or any(n < -1 for n in lengths):
            raise ValueError(f"split_lengths {lengths} may hold one -1 and no other negative value")
        if -1 in lengths:
            lengths[lengths.index(-1)] = size - sum(n for n in lengths if n != -1)
        if sum(lengths) != size or min(lengths, default=0) < 0:
            raise ValueError(f"split_lengths {int_list(split_lengths)} do not add up to dimension {size}")
        return tuple(np.split(data, np.cumsum(lengths)[:-1], axis=axis))
