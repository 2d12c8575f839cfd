"""AdaptiveAvgPool-8: ``output_shape`` (spatial sizes) bins per spatial axis;
bin i of n inputs into m covers ``[floor(i*n/m), ceil((i+1)*n/m))``.  The mean
over a box is separable, so each axis is one small matrix product."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import spatial
from gpu_int8.ops.base import Op


def _bins(n: int, m: int) -> np.ndarray:
    matrix = np.zeros((m, n), dtype=np.float64)
    for i in range(m):
        start, stop = (i * n) // m, -((-(i + 1) * n) // m)
        matrix[i, start:stop] = 1.0 / (stop - start)
    return matrix


class AdaptiveAvgPool(Op):
    @classmethod
    def _sizes(cls, x_shape, output_shape) -> tuple:
        sizes = tuple(int(v) for v in np.asarray(output_shape).reshape(-1))
        if len(sizes) != len(x_shape) - 2 or any(s < 1 for s in sizes):
            raise ValueError(f"output_shape {list(sizes)} does not fit data {list(x_shape)}")
        return sizes

    @classmethod
    def run(cls, node, x, output_shape):
        sizes = cls._sizes(x.shape, output_shape)
        y = spatial.float_input(x)
        for axis, (n, m) in enumerate(zip(x.shape[2:], sizes), start=2):
            y = spatial.apply_matrix(y, axis, _bins(n, m))
        return (y.astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32),)

    @classmethod
    def infer(cls, node, inputs):
        x, shape = inputs
        if not shape.is_const:
            raise ValueError("output_shape must be a constant")
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
        return [(tuple(x.shape[:2]) + cls._sizes(x.shape, shape.data), dtype)]
