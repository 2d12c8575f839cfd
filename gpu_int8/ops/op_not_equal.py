"""NotEqual: a != b with NumPy broadcasting; boolean result."""

import numpy as np

from gpu_int8.ops.elementwise import _Comparison


class NotEqual(_Comparison):
    ufunc = np.not_equal
