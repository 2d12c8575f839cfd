"""GatherND (v8; v5 with attrs["opset"] = 5): gather slices of ``data`` addressed by
the last axis of ``indices``, after ``batch_dims`` leading dimensions shared by both.

Output shape: indices.shape[:-1] + data.shape[batch_dims + indices.shape[-1]:];
GatherND-5 folds the batch dimensions of that shape into one.
"""

import math

import numpy as np

from gpu_int8.ops.base import Attr, Op


class GatherND(Op):
    attributes = {"batch_dims": Attr("int", 0)}

    @classmethod
    def run(cls, node, data, indices):
        b = int(cls.attr(node, "batch_dims"))
        depth = indices.shape[-1] if indices.ndim else 0
        if indices.ndim < 1 or not 0 <= b < indices.ndim or b + depth > data.ndim:
            raise ValueError(f"indices {list(indices.shape)} and batch_dims {b} do not fit data {list(data.shape)}")
        if data.shape[:b] != indices.shape[:b]:
            raise ValueError(f"batch dimensions differ: data {list(data.shape)}, indices {list(indices.shape)}")
        batch = math.prod(data.shape[:b])
        src = data.reshape((batch,) + data.shape[b:])
        idx = np.asarray(indices, np.int64).reshape(batch, -1, depth)
        dims = np.array(data.shape[b:b + depth], np.int64)
        idx = np.where(idx < 0, idx + dims, idx)
        if idx.size and (np.any(idx < 0) or np.any(idx >= dims)):
            raise ValueError("an index is out of range")
        coords = tuple(idx[..., k] for k in range(depth))
        taken = src[(np.arange(batch)[:, None],) + coords]  # (batch, n) + slice shape
        tail = data.shape[b + depth:]
        if int(node.attrs.get("opset", 8)) < 8 and b > 0:
            return (taken.reshape((batch,) + indices.shape[b:-1] + tail),)
        return (taken.reshape(indices.shape[:-1] + tail),)
