"""Shared helpers of the shape / data-movement op files (no op registers here).

Shapes are static in gpu_int8, so inputs that decide an output shape (a target
shape, axes, begin/end, repeats) must be constants by the time shapes are
inferred; :class:`_ShapeParamsOp` checks that instead of guessing from zeros.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from gpu_int8.ops.base import Op


def normalize_axis(axis: int, rank: int, what: str = "axis") -> int:
    """``axis`` in [0, rank), accepting negative values counted from the end."""
    axis = int(axis)
    if not -rank <= axis < rank:
        raise ValueError(f"{what} {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def int_list(values) -> list[int]:
    """A 0-D or 1-D integer tensor (or sequence) as a list of Python ints."""
    arr = np.asarray(values)
    if arr.ndim > 1:
        raise ValueError(f"expected a scalar or 1-D tensor, got shape {list(arr.shape)}")
    if arr.size and not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.trunc(arr)):
            raise ValueError(f"expected integers, got {arr.tolist()}")
    return [int(v) for v in arr.reshape(-1)]


class _ShapeParamsOp(Op):
    """An op whose output shape depends on the values of some inputs."""

    #: positions of the inputs whose values decide the output shape
    shape_inputs: ClassVar[tuple[int, ...]] = ()

    @classmethod
    def infer(cls, node, inputs):
        for i in cls.shape_inputs:
            if i < len(inputs) and inputs[i] is not None and not inputs[i].is_const:
                raise ValueError(f"input {i} ('{inputs[i].name}') decides the output shape and must be a "
                                 "constant: gpu_int8 needs static shapes")
        return super().infer(node, inputs)
