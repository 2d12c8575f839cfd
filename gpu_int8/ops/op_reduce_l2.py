"""ReduceL2: the square root of the sum of squares of ``data`` over the ``axes`` input
(keep_dims keeps them as size 1)."""

import numpy as np

from gpu_int8.ops.reduce_common import _Reduce, accumulation_dtype


class ReduceL2(_Reduce):
    @classmethod
    def reduce(cls, x, axes, keep_dims):
        return np.sqrt(np.sum(np.square(x, dtype=accumulation_dtype(x)), axis=axes, keepdims=keep_dims))
