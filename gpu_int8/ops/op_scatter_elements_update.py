"""ScatterElementsUpdate (v3; v12 adds ``reduction`` and ``use_init_val``).

For each element of ``indices`` (same rank as data), the output element at its
own coordinates, with the ``axis`` coordinate replaced by the index value,
receives the matching element of ``updates``: replaced (reduction none; the
last of repeated indices wins), or combined by sum/prod/min/max/mean, starting
from the data value when ``use_init_val`` is true and from the updates alone
otherwise.  Integer means truncate toward zero, as in OpenVINO.
"""

import numpy as np

from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.shape_params import int_list, normalize_axis

_UFUNCS = {"sum": np.add, "prod": np.multiply, "min": np.minimum, "max": np.maximum, "mean": np.add}


class ScatterElementsUpdate(Op):
    attributes = {"reduction": Attr("str", "none"), "use_init_val": Attr("bool", True)}

    @classmethod
    def run(cls, node, data, indices, updates, axis):
        (axis,) = int_list(axis)
        axis = normalize_axis(axis, data.ndim)
        if indices.shape != updates.shape or indices.ndim != data.ndim:
            raise ValueError(f"indices {list(indices.shape)} and updates {list(updates.shape)} must have one "
                             f"shape of data's rank {data.ndim}")
        dim = data.shape[axis]
        idx = np.asarray(indices, np.int64)
        idx = np.where(idx < 0, idx + dim, idx)
        if idx.size and (idx.min() < 0 or idx.max() >= dim):
            raise ValueError(f"an index is out of range for dimension {dim}")
        coords = list(np.indices(indices.shape, sparse=True))
        coords[axis] = idx
        target = np.ravel_multi_index(tuple(np.broadcast_arrays(*coords)), data.shape).reshape(-1)
        values = updates.astype(data.dtype, copy=False).reshape(-1)

        out = data.copy().reshape(-1)
        reduction = str(cls.attr(node, "reduction")).lower()
        if reduction == "none":
            out[target] = values  # NumPy assigns in order: the last repeated index wins
            return (out.reshape(data.shape),)
        if reduction not in _UFUNCS:
            raise ValueError(f"reduction {reduction!r} is not none, sum, prod, min, max or mean")
        use_init = bool(cls.attr(node, "use_init_val"))
        touched = np.unique(target)
        if use_init:
            _UFUNCS[reduction].at(out, target, values)
        else:  # the first update of each target replaces the data value, the others combine with it
            order = np.argsort(target, kind="stable")
            sorted_target = target[order]
            first = np.r_[True, sorted_target[1:] != sorted_target[:-1]]
            out[sorted_target[first]] = values[order[first]]
            rest = order[~first]
            _UFUNCS[reduction].at(out, target[rest], values[rest])
        if reduction == "mean":
            counts = np.bincount(target, minlength=out.size)[touched] + (1 if use_init else 0)
            if np.issubdtype(out.dtype, np.integer):
                totals = out[touched].astype(np.int64)
                out[touched] = np.sign(totals) * (np.abs(totals) // counts)
            else:
                out[touched] = out[touched] / counts
        return (out.reshape(data.shape),)
