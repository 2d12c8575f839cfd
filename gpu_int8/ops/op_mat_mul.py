"""MatMul-1: ``transpose_a``/``transpose_b`` swap the last two axes first; batch
axes broadcast like NumPy; a 1-D ``a`` is a row ``[1, K]`` and a 1-D ``b`` a
column ``[K, 1]`` (transpose flags ignored for them), that unit axis removed
from the result."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops.base import Attr, Op, broadcast


class MatMul(Op):
    attributes = {"transpose_a": Attr("bool", False), "transpose_b": Attr("bool", False)}

    @classmethod
    def _operands(cls, node, a_shape: tuple, b_shape: tuple):
        """Shapes of the 2-D+ operands after transposes, and which unit axes to drop."""
        if len(a_shape) == 0 or len(b_shape) == 0:
            raise ValueError("MatMul operands must have rank >= 1")
        drop_row, drop_col = len(a_shape) == 1, len(b_shape) == 1
        a_shape = (1,) + tuple(a_shape) if drop_row else tuple(a_shape)
        b_shape = tuple(b_shape) + (1,) if drop_col else tuple(b_shape)
        if cls.attr(node, "transpose_a") and not drop_row:
            a_shape = a_shape[:-2] + (a_shape[-1], a_shape[-2])
        if cls.attr(node, "transpose_b") and not drop_col:
            b_shape = b_shape[:-2] + (b_shape[-1], b_shape[-2])
        if a_shape[-1] != b_shape[-2]:
            raise ValueError(f"inner dimensions differ: {a_shape[-1]} vs {b_shape[-2]}")
        return a_shape, b_shape, drop_row, drop_col

    @classmethod
    def output_shape(cls, node, a_shape: tuple, b_shape: tuple) -> tuple:
        a_shape, b_shape, drop_row, drop_col = cls._operands(node, a_shape, b_shape)
        rows = () if drop_row else (a_shape[-2],)
        cols = () if drop_col else (b_shape[-1],)
        return broadcast(a_shape[:-2], b_shape[:-2]) + rows + cols

    @classmethod
    def run(cls, node, a, b):
        shape = cls.output_shape(node, a.shape, b.shape)
        if cls.attr(node, "transpose_a") and a.ndim > 1:
            a = np.swapaxes(a, -1, -2)
        if cls.attr(node, "transpose_b") and b.ndim > 1:
            b = np.swapaxes(b, -1, -2)
        dtype = np.result_type(a.dtype, b.dtype)
        if np.issubdtype(dtype, np.floating) and dtype != np.float64:
            y = np.matmul(a.astype(np.float32, copy=False), b.astype(np.float32, copy=False)).astype(dtype)
        else:
            y = np.matmul(a.astype(dtype, copy=False), b.astype(dtype, copy=False))
        return (y.reshape(shape),)

    @classmethod
    def infer(cls, node, inputs):
        a, b = inputs
        return [(cls.output_shape(node, a.shape, b.shape), np.result_type(a.dtype, b.dtype))]
