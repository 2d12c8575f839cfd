"""Reshape: ``data`` to ``target_shape``; -1 (at most once) is inferred, and with
``special_zero`` a 0 copies the input dimension at the same index."""

import math

from gpu_int8.ops.base import Attr
from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list


class Reshape(_ShapeParamsOp):
    attributes = {"special_zero": Attr("bool")}
    shape_inputs = (1,)

    @classmethod
    def run(cls, node, data, target_shape):
        return (data.reshape(output_shape(data.shape, target_shape, cls.attr(node, "special_zero"))),)


def output_shape(in_shape: tuple, target_shape, special_zero: bool) -> tuple:
    """The shape Reshape gives ``in_shape`` for ``target_shape``."""
    dims = int_list(target_shape)
    if special_zero:
        for i, d in enumerate(dims):
            if d == 0:
                if i >= len(in_shape):
                    raise ValueError(f"target shape {dims} copies dimension {i} (special_zero) of a "
                                     f"rank-{len(in_shape)} input")
                dims[i] = in_shape[i]
    if any(d < -1 for d in dims) or dims.count(-1) > 1:
        raise ValueError(f"target shape {dims} has a negative dimension other than a single -1")
    total = math.prod(in_shape)
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        if known == 0 or total % known:
            raise ValueError(f"cannot infer the -1 in target shape {dims} for {total} elements")
        dims[dims.index(-1)] = total // known
    if math.prod(dims) != total:
        raise ValueError(f"target shape {dims} holds {math.prod(dims)} elements, input has {total}")
    return tuple(dims)
