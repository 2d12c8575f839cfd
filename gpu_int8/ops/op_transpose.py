"""Transpose: permute dimensions by the ``order`` input; an empty order reverses them."""

import numpy as np

from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list, normalize_axis


class Transpose(_ShapeParamsOp):
    shape_inputs = (1,)

    @classmethod
    def run(cls, node, data, order):
        order = int_list(order)
        if not order:
            return (np.transpose(data).copy(),)
        perm = [normalize_axis(a, data.ndim, "order entry") for a in order]
        if sorted(perm) != list(range(data.ndim)):
            raise ValueError(f"Transpose order {order} is not a permutation of {data.ndim} axes")
        return (np.transpose(data, perm).copy(),)
