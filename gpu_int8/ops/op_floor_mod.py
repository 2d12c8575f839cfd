"""FloorMod: remainder with the sign of the divisor (Python's %), NumPy broadcasting."""

import numpy as np

from gpu_int8.ops.elementwise import _Binary


class FloorMod(_Binary):
    @classmethod
    def fn(cls, node, a, b):
        return np.mod(a, b)
