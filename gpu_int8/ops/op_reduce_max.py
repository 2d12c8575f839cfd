"""ReduceMax: the maximum of ``data`` over the ``axes`` input (keep_dims keeps them as size 1)."""

import numpy as np

from gpu_int8.ops.reduce_common import _Reduce


class ReduceMax(_Reduce):
    @classmethod
    def reduce(cls, x, axes, keep_dims):
        return np.max(x, axis=axes, keepdims=keep_dims)
