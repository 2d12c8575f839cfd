"""LogicalOr: boolean or with NumPy broadcasting (non-zero inputs count as true)."""

import numpy as np

from gpu_int8.ops.elementwise import _Logical


class LogicalOr(_Logical):
    ufunc = np.logical_or
