"""LogSoftmax-5: ``x - max - log(sum(exp(x - max)))`` along ``axis``."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import spatial
from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.op_softmax import checked_axis


class LogSoftmax(Op):
    attributes = {"axis": Attr("int", 1)}

    @classmethod
    def run(cls, node, x):
        axis = checked_axis(cls.attr(node, "axis"), x.ndim)
        xf = spatial.float_input(x)
        shifted = xf - np.max(xf, axis=axis, keepdims=True)
        y = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        return (y.astype(x.dtype, copy=False),)

    @classmethod
    def infer(cls, node, inputs):
        x = inputs[0]
        checked_axis(cls.attr(node, "axis"), len(x.shape))
        return [(x.shape, x.dtype)]
