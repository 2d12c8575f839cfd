"""ReduceL1: the sum of absolute values of ``data`` over the ``axes`` input
(keep_dims keeps them as size 1)."""

import numpy as np

from gpu_int8.ops.reduce_common import _Reduce


class ReduceL1(_Reduce):
    @classmethod
    def reduce(cls, x, axes, keep_dims):
        return np.sum(np.abs(x), axis=axes, keepdims=keep_dims)
