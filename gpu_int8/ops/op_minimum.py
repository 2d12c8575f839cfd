"""Minimum: elementwise min with NumPy broadcasting."""

import numpy as np

from gpu_int8.ops.elementwise import _Binary


class Minimum(_Binary):
    @classmethod
    def fn(cls, node, a, b):
        return np.minimum(a, b)
