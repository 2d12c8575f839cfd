"""Log: natural logarithm."""

import numpy as np

from gpu_int8.ops.elementwise import _Unary


class Log(_Unary):
    @classmethod
    def fn(cls, x):
        return np.log(x)
