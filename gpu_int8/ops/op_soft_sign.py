"""SoftSign-9: x / (1 + |x|)."""

import numpy as np

from gpu_int8.ops.elementwise import _Unary


class SoftSign(_Unary):
    @classmethod
    def fn(cls, x):
        return x / (1 + np.abs(x))
