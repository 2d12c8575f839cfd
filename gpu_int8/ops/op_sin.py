"""Sin: sine."""

import numpy as np

from gpu_int8.ops.elementwise import _Unary


class Sin(_Unary):
    @classmethod
    def fn(cls, x):
        return np.sin(x)
