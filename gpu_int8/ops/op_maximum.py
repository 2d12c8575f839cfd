"""Maximum: elementwise max with NumPy broadcasting."""

import numpy as np

from gpu_int8.ops.elementwise import _Binary


class Maximum(_Binary):
    @classmethod
    def fn(cls, node, a, b):
        return np.maximum(a, b)
