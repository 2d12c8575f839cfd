"""NumPy convolution kernels shared by the Convolution-family ops.

Forward convolution is im2col (a strided window view copied once) and one
matmul per group; depthwise convolution (one input channel per group) is a
loop over kernel taps with broadcast multiply-adds, which beats hundreds of
tiny matmuls.  Transposed convolution is a matmul followed by a scatter-add
per kernel tap (col2im).
"""

from __future__ import annotations

import itertools

import numpy as np

from gpu_int8.ops import spatial


def grouped_convolution(x: np.ndarray, w: np.ndarray, strides, dilations, pads_begin, pads_end,
                        out_sizes) -> np.ndarray:
    """``x [N, G*Cg, *S]`` (*) ``w [G, Og, Cg, *k]`` -> ``[N, G*Og, *out_sizes]``."""
    n, groups, out_per_group, in_per_group = x.shape[0], w.shape[0], w.shape[1], w.shape[2]
    kernel = w.shape[3:]
    dtype = np.result_type(x.dtype, w.dtype)
    xp = spatial.pad_spatial(x.astype(dtype, copy=False), pads_begin, pads_end, 0)
    xp = spatial.fit_to_windows(xp, kernel, strides, dilations, out_sizes)
    w = w.astype(dtype, copy=False)
    if in_per_group == 1 and groups > 1:
        return _depthwise(xp, w, strides, dilations, out_sizes)
    taps, pixels = spatial.prod(kernel), spatial.prod(out_sizes)
    cols = spatial.window_view(xp, kernel, strides, dilations, out_sizes)
    cols = cols.reshape(n, groups, in_per_group * taps, pixels)
    weights = w.reshape(groups, out_per_group, in_per_group * taps)
    if groups == 1:
        y = np.matmul(weights[0], cols[:, 0])
    else:
        y = np.matmul(weights, cols)
    return y.reshape((n, groups * out_per_group) + tuple(out_sizes))


def _depthwise(xp: np.ndarray, w: np.ndarray, strides, dilations, out_sizes) -> np.ndarray:
    n, groups, out_per_group = xp.shape[0], w.shape[0], w.shape[1]
    rank = len(out_sizes)
    acc = np.zeros((n, groups, out_per_group) + tuple(out_sizes), dtype=xp.dtype)
    for tap in itertools.product(*(range(k) for k in w.shape[3:])):
        window = xp[(slice(None), slice(None)) + spatial.tap_slices(tap, strides, dilations, out_sizes)]
        coeff = w[(slice(None), slice(None), 0) + tap].reshape((1, groups, out_per_group) + (1,) * rank)
        acc += coeff * window[:, :, None]
    return acc.reshape((n, groups * out_per_group) + tuple(out_sizes))


def grouped_transposed_convolution(x: np.ndarray, w: np.ndarray, strides, dilations, pads_begin, pads_end,
                                   output_padding) -> np.ndarray:
    """Transposed convolution: ``x [N, G*Ci, *S]``, ``w [G, Ci, Co, *k]`` -> ``[N, G*Co, *out]`` with
    ``out = s*(S-1) + d*(k-1) + 1 + output_padding - pads_begin - pads_end``."""
    n, in_sizes = x.shape[0], x.shape[2:]
    groups, in_per_group, out_per_group, kernel = w.shape[0], w.shape[1], w.shape[2], w.shape[3:]
    dtype = np.result_type(x.dtype, w.dtype)
    pixels, taps = spatial.prod(in_sizes), spatial.prod(kernel)
    weights = w.astype(dtype, copy=False).reshape(groups, in_per_group, out_per_group * taps).transpose(0, 2, 1)
    cols = np.matmul(weights, x.astype(dtype, copy=False).reshape(n, groups, in_per_group, pixels))
    cols = cols.reshape((n, groups, out_per_group) + tuple(kernel) + tuple(in_sizes))
    full = tuple(s * (i - 1) + d * (k - 1) + 1 + p
                 for i, k, s, d, p in zip(in_sizes, kernel, strides, dilations, output_padding))
    acc = np.zeros((n, groups, out_per_group) + full, dtype=dtype)
    for tap in itertools.product(*(range(k) for k in kernel)):
        target = (slice(None),) * 3 + spatial.tap_slices(tap, strides, dilations, in_sizes)
        acc[target] += cols[(slice(None),) * 3 + tap]
    acc = acc.reshape((n, groups * out_per_group) + full)
    return spatial.pad_spatial(acc, [-b for b in pads_begin], [-e for e in pads_end], 0)
