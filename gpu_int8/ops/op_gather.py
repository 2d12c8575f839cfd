"""Gather-8: take slices of ``data`` along ``axis`` at ``indices``.

The output shape is data.shape[:axis] + indices.shape[batch_dims:] +
data.shape[axis+1:]; the first ``batch_dims`` dimensions of data and indices
are matched pairwise.  Negative indices count from the end; indices out of
range give zeros, as in OpenVINO.
"""

import math

import numpy as np

from gpu_int8.ops.base import Attr
from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list, normalize_axis


class Gather(_ShapeParamsOp):
    attributes = {"batch_dims": Attr("int", 0)}
    shape_inputs = (2,)

    @classmethod
    def run(cls, node, data, indices, axis):
        (axis,) = int_list(axis)
        axis = normalize_axis(axis, data.ndim)
        batch_dims = int(cls.attr(node, "batch_dims"))
        if batch_dims < 0:
            batch_dims += indices.ndim
        if not 0 <= batch_dims <= min(axis, indices.ndim):
            raise ValueError(f"batch_dims {cls.attr(node, 'batch_dims')} must lie in [0, min(axis, indices rank)]")
        if data.shape[:batch_dims] != indices.shape[:batch_dims]:
            raise ValueError(f"batch dimensions differ: data {list(data.shape)}, indices {list(indices.shape)}")
        dim = data.shape[axis]
        idx = np.asarray(indices, dtype=np.int64)
        idx = np.where(idx < 0, idx + dim, idx)
        valid = (idx >= 0) & (idx < dim)
        idx = np.where(valid, idx, 0)

        shape = data.shape[:axis] + indices.shape[batch_dims:] + data.shape[axis + 1:]
        if dim == 0:
            return (np.zeros(shape, data.dtype),)
        batch = math.prod(data.shape[:batch_dims])
        outer = math.prod(data.shape[batch_dims:axis])
        inner = math.prod(data.shape[axis + 1:])
        src = data.reshape(batch, outer, dim, inner)
        flat_idx = idx.reshape(batch, -1)  # (batch, n)
        taken = src[np.arange(batch)[:, None, None], np.arange(outer)[None, :, None], flat_idx[:, None, :]]
        # taken is (batch, outer, n, inner); out-of-range indices give zeros
        if not valid.all():
            taken = np.where(valid.reshape(batch, 1, -1, 1), taken, np.zeros((), data.dtype))
        return (taken.reshape(shape),)
