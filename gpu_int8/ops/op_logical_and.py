"""LogicalAnd: boolean and with NumPy broadcasting (non-zero inputs count as true)."""

import numpy as np

from gpu_int8.ops.elementwise import _Logical


class LogicalAnd(_Logical):
    ufunc = np.logical_and
