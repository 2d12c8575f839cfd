"""TopK-1/3/11: the ``k`` largest (mode max) or smallest (mode min) elements
along ``axis`` and their indices.  ``sort`` value orders them by value (best
first), index by position, none as value; ties go to the lower index."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.index_dtype import index_dtype


class TopK(Op):
    attributes = {
        "axis": Attr("int"),
        "mode": Attr("str"),
        "sort": Attr("str"),
        "index_element_type": Attr("dtype", "i32"),
        "stable": Attr("bool", False),
    }

    @classmethod
    def _k_and_axis(cls, node, shape, k) -> tuple[int, int]:
        axis = cls.attr(node, "axis")
        if not -len(shape) <= axis < len(shape):
            raise ValueError(f"axis {axis} is out of range for rank {len(shape)}")
        axis %= len(shape)
        k = int(np.asarray(k).reshape(()))
        if k < 0:
            raise ValueError(f"k = {k} is negative")
        return min(k, shape[axis]), axis

    @classmethod
    def run(cls, node, x, k):
        k, axis = cls._k_and_axis(node, x.shape, k)
        mode, sort = str(cls.attr(node, "mode")).lower(), str(cls.attr(node, "sort")).lower()
        if mode not in ("max", "min") or sort not in ("value", "index", "none"):
            raise ValueError(f"mode '{mode}' / sort '{sort}' not supported")
        keys = x.astype(np.float64) if x.dtype.kind in "iub" else x
        order = np.argsort(-keys if mode == "max" else keys, axis=axis, kind="stable")
        chosen = np.take(order, np.arange(k), axis=axis)
        if sort == "index":
            chosen = np.sort(chosen, axis=axis)
        values = np.take_along_axis(x, chosen, axis=axis)
        return values, chosen.astype(index_dtype(cls.attr(node, "index_element_type")))

    @classmethod
    def infer(cls, node, inputs):
        x, k = inputs
        if not k.is_const:
            raise ValueError("k must be a constant")
        count, axis = cls._k_and_axis(node, x.shape, k.data)
        shape = tuple(count if i == axis else d for i, d in enumerate(x.shape))
        return [(shape, x.dtype), (shape, index_dtype(cls.attr(node, "index_element_type")))]
