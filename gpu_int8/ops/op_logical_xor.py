"""LogicalXor: boolean exclusive or with NumPy broadcasting (non-zero inputs count as true)."""

import numpy as np

from gpu_int8.ops.elementwise import _Logical


class LogicalXor(_Logical):
    ufunc = np.logical_xor
