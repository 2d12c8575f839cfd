"""Sqrt: square root; integer inputs round to nearest, as OpenVINO's reference does."""

import numpy as np

from gpu_int8.ops.elementwise import _Unary


class Sqrt(_Unary):
    exact_on_integers = True

    @classmethod
    def fn(cls, x):
        if np.issubdtype(x.dtype, np.floating):
            return np.sqrt(x)
        return np.rint(np.sqrt(x.astype(np.float64)))
