"""Shared shape and axis handling of the Reduce* ops (data, axes input; keep_dims)."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops.base import Attr, Op


def normalize_axes(axes, rank: int) -> tuple[int, ...]:
    """Axes as sorted non-negative ints; negative ones count from the end."""
    values = [int(a) for a in np.asarray(axes).reshape(-1)] if axes is not None else []
    out = []
    for a in values:
        if not -rank <= a < max(rank, 1):
            raise ValueError(f"axis {a} is out of range for rank {rank}")
        out.append(a % rank if rank else 0)
    return tuple(sorted(set(out)))


def accumulation_dtype(x: np.ndarray):
    """float32 arithmetic for float16 data, float64 for integers (cast back afterwards)."""
    if x.dtype.kind == "f":
        return np.float32 if x.dtype.itemsize < 4 else None
    return np.float64


class _Reduce(Op):
    """Reduce ``data`` over the ``axes`` input; an empty axes list leaves the data unchanged."""

    attributes = {"keep_dims": Attr("bool", False)}

    @classmethod
    def reduce(cls, x: np.ndarray, axes: tuple[int, ...], keep_dims: bool) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def run(cls, node, x, axes):
        axes = normalize_axes(axes, x.ndim)
        if not axes:
            return (x.copy(),)
        with np.errstate(over="ignore"):
            y = cls.reduce(x, axes, cls.attr(node, "keep_dims"))
        return (np.asarray(y).astype(x.dtype, copy=False),)

    @classmethod
    def infer(cls, node, inputs):
        x, axes = inputs
        if not axes.is_const:
            raise ValueError("axes must be a constant")
        reduced = normalize_axes(axes.data, len(x.shape))
        keep = cls.attr(node, "keep_dims")
        shape = tuple(1 if i in reduced else d for i, d in enumerate(x.shape) if keep or i not in reduced)
        return [(shape, x.dtype)]
