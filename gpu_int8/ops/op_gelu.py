"""Gelu-7: x * Phi(x); ``approximation_mode`` ERF (exact) or TANH (Gelu-2 is ERF)."""

import numpy as np

from gpu_int8.ops.base import Attr, Op, as_float
from gpu_int8.ops.elementwise import erf


class Gelu(Op):
    attributes = {"approximation_mode": Attr("str", "ERF")}

    @classmethod
    def run(cls, node, x):
        xf = as_float(x)
        mode = str(cls.attr(node, "approximation_mode")).upper()
        if mode == "ERF":
            y = 0.5 * xf * (1 + erf(xf * np.asarray(1 / np.sqrt(2), xf.dtype)))
        elif mode == "TANH":
            k = np.asarray(np.sqrt(2 / np.pi), xf.dtype)
            y = 0.5 * xf * (1 + np.tanh(k * (xf + np.asarray(0.044715, xf.dtype) * xf ** 3)))
        else:
            raise ValueError(f"Gelu approximation_mode {mode!r} is not ERF or TANH")
        return (y.astype(x.dtype),)
