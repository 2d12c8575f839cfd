"""Swish-4: x * sigmoid(beta * x); the optional scalar ``beta`` input defaults to 1."""

import numpy as np

from gpu_int8.ops.base import Op, as_float
from gpu_int8.ops.op_sigmoid import Sigmoid


class Swish(Op):
    @classmethod
    def run(cls, node, x, beta=None):
        xf = as_float(x)
        scaled = xf if beta is None else xf * np.asarray(beta, xf.dtype)
        return ((xf * Sigmoid.fn(scaled)).astype(x.dtype),)
