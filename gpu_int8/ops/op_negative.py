"""Negative: -x (integers wrap, like OpenVINO's reference)."""

import numpy as np

from gpu_int8.ops.elementwise import _Unary


class Negative(_Unary):
    exact_on_integers = True

    @classmethod
    def fn(cls, x):
        return np.negative(x)
