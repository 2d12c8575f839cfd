"""GatherElements-6: out[i][j][k] = data[i][indices[i][j][k]][k] for axis 1 (and so on);
negative indices count from the end."""

import numpy as np

from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.shape_params import normalize_axis


class GatherElements(Op):
    attributes = {"axis": Attr("int")}

    @classmethod
    def run(cls, node, data, indices):
        if data.ndim != indices.ndim:
            raise ValueError(f"data rank {data.ndim} and indices rank {indices.ndim} differ")
        axis = normalize_axis(cls.attr(node, "axis"), data.ndim)
        for i, (d, n) in enumerate(zip(data.shape, indices.shape)):
            if i != axis and d != n:
                raise ValueError(f"indices shape {list(indices.shape)} does not fit data shape {list(data.shape)}")
        idx = _in_range(indices, data.shape[axis])
        return (np.take_along_axis(data, idx, axis=axis),)


def _in_range(indices: np.ndarray, dim: int) -> np.ndarray:
    idx = np.asarray(indices, dtype=np.int64)
    idx = np.where(idx < 0, idx + dim, idx)
    if idx.size and (idx.min() < 0 or idx.max() >= dim):
        raise ValueError(f"an index is out of range for dimension {dim}")
    return idx
