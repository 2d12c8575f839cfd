"""ScatterUpdate-3: a copy of ``data`` whose slices at ``indices`` along ``axis`` are
replaced by ``updates`` (shape data.shape[:axis] + indices.shape + data.shape[axis+1:])."""

import numpy as np

from gpu_int8.ops.base import Op
from gpu_int8.ops.shape_params import int_list, normalize_axis


class ScatterUpdate(Op):
    @classmethod
    def run(cls, node, data, indices, updates, axis):
        (axis,) = int_list(axis)
        axis = normalize_axis(axis, data.ndim)
        dim = data.shape[axis]
        idx = np.asarray(indices, np.int64).reshape(-1)
        idx = np.where(idx < 0, idx + dim, idx)
        if idx.size and (idx.min() < 0 or idx.max() >= dim):
            raise ValueError(f"an index is out of range for dimension {dim}")
        expected = data.shape[:axis] + indices.shape + data.shape[axis + 1:]
        if updates.shape != expected:
            raise ValueError(f"updates shape {list(updates.shape)} should be {list(expected)}")
        out = data.copy()
        moved = np.moveaxis(out, axis, 0)  # a view: writes land in out
        upd = np.moveaxis(updates.reshape(data.shape[:axis] + (idx.size,) + data.shape[axis + 1:]), axis, 0)
        if np.unique(idx).size == idx.size:
            moved[idx] = upd
        else:
            for k, i in enumerate(idx):  # in order, so a repeated index keeps the last update
                moved[i] = upd[k]
        return (out,)
