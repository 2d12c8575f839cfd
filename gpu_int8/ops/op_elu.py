"""Elu: x for x > 0, alpha * (e^x - 1) otherwise."""

import numpy as np

from gpu_int8.ops.base import Attr, Op, as_float


class Elu(Op):
    attributes = {"alpha": Attr("float")}

    @classmethod
    def run(cls, node, x):
        xf = as_float(x)
        alpha = np.asarray(cls.attr(node, "alpha"), xf.dtype)
        return (np.where(xf > 0, xf, alpha * np.expm1(np.minimum(xf, 0))).astype(x.dtype),)
