"""Cos: cosine."""

import numpy as np

from gpu_int8.ops.elementwise import _Unary


class Cos(_Unary):
    @classmethod
    def fn(cls, x):
        return np.cos(x)
