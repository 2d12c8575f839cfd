"""Softmax-1/8 along ``axis`` (v8 allows a negative axis).  OpenVINO IR spells
the type ``SoftMax``; both names are registered."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import spatial
from gpu_int8.ops.base import Attr, Op


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """Numerically stable softmax in float32 (or float64 for float64 data)."""
    xf = spatial.float_input(x)
    e = np.exp(xf - np.max(xf, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def checked_axis(axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank


class Softmax(Op):
    attributes = {"axis": Attr("int", 1)}

    @classmethod
    def run(cls, node, x):
        y = softmax(x, checked_axis(cls.attr(node, "axis"), x.ndim))
        return (y.astype(x.dtype, copy=False),)

    @classmethod
    def infer(cls, node, inputs):
        x = inputs[0]
        checked_axis(cls.attr(node, "axis"), len(x.shape))
        return [(x.shape, x.dtype)]


class SoftMax(Softmax):
    """The IR spelling of Softmax."""
