"""LessEqual: a <= b with NumPy broadcasting; boolean result."""

import numpy as np

from gpu_int8.ops.elementwise import _Comparison


class LessEqual(_Comparison):
    ufunc = np.less_equal
