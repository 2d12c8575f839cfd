"""ReduceMean: the mean of ``data`` over the ``axes`` input (keep_dims keeps them as size 1)."""

import numpy as np

from gpu_int8.ops.reduce_common import _Reduce, accumulation_dtype


class ReduceMean(_Reduce):
    @classmethod
    def reduce(cls, x, axes, keep_dims):
        return np.mean(x, axis=axes, keepdims=keep_dims, dtype=accumulation_dtype(x))
