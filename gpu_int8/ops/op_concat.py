"""Concat: join the inputs along ``axis`` (negative counts from the end)."""

import numpy as np

from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.shape_params import normalize_axis


class Concat(Op):
    attributes = {"axis": Attr("int")}

    @classmethod
    def run(cls, node, *inputs):
        if not inputs:
            raise ValueError("Concat needs at least one input")
        axis = normalize_axis(cls.attr(node, "axis"), inputs[0].ndim)
        dtype = inputs[0].dtype
        return (np.concatenate([x.astype(dtype, copy=False) for x in inputs], axis=axis),)
