"""NumPy convolution kernels shared by the Convolution-family ops.

Forward convolution is im2col (a strided window view copied once) and one
matmul per group.  When that copy would be large and the stride is 1, it is a
matmul per kernel tap instead, each reading a shifted contiguous slice of the
flattened padded input (outputs are computed on the padded grid and the
margin is dropped), so nothing is copied.  Depthwise convolution (one input
channel per group) is a loop over kernel taps with broadcast multiply-adds,
which beats hundreds of tiny matmuls.  Transposed convolution is a matmul
followed by a scatter-add per kernel tap (col2im).
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from gpu_int8.ops import spatial

#: im2col buffers above this size switch stride-1 convolutions to per-tap matmuls
IM2COL_LIMIT_BYTES = 16 << 20


def grouped_convolution(x: np.ndarray, w: np.ndarray, strides, dilations, pads_begin, pads_end,
                        out_sizes) -> np.ndarray:
    """``x [N, G*Cg, *S]`` (*) ``w [G, Og, Cg, *k]`` -> ``[N, G*Og, *out_sizes]``."""
    n, groups, out_per_group, in_per_group = x.shape[0], w.shape[0], w.shape[1], w.shape[2]
    kernel = w.shape[3:]
    dtype = np.result_type(x.dtype, w.dtype)
    xp = spatial.pad_spatial(x.astype(dtype, copy=False), pads_begin, pads_end, 0)
    xp = spatial.fit_to_windows(xp, kernel, strides, dilations, out_sizes)
    w = w.astype(dtype, copy=False)
    unit_stride = all(s == 1 for s in strides)
    if in_per_group == 1 and groups > 1:
        if unit_stride:
            return _depthwise_flat(xp, w, dilations, out_sizes)
        return _depthwise(xp, w, strides, dilations, out_sizes)
    taps, pixels = spatial.prod(kernel), spatial.prod(out_sizes)
    if unit_stride and taps > 1 and x.shape[1] * taps * pixels * n * xp.itemsize > IM2COL_LIMIT_BYTES:
        return _tap_matmuls(xp, w, dilations, out_sizes)
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
    term = np.empty_like(acc)
    for tap in itertools.product(*(range(k) for k in w.shape[3:])):
        window = xp[(slice(None), slice(None)) + spatial.tap_slices(tap, strides, dilations, out_sizes)]
        coeff = w[(slice(None), slice(None), 0) + tap].reshape((1, groups, out_per_group) + (1,) * rank)
        np.multiply(window[:, :, None], coeff, out=term)
        acc += term
    return acc.reshape((n, groups * out_per_group) + tuple(out_sizes))


def _padded_grid(xp: np.ndarray, out_sizes):
    """Element steps of the padded spatial axes and how many flat positions cover every output."""
    steps = [spatial.prod(xp.shape[3 + i:]) for i in range(len(out_sizes))]
    span = sum((o - 1) * e for o, e in zip(out_sizes, steps)) + 1
    return steps, span


def _tap_offsets(kernel, dilations, steps):
    for tap in itertools.product(*(range(k) for k in kernel)):
        yield tap, sum(t * d * e for t, d, e in zip(tap, dilations, steps))


def _from_padded_grid(acc: np.ndarray, steps, out_sizes) -> np.ndarray:
    """``acc [N, C, span]`` on the padded grid -> contiguous ``[N, C, *out_sizes]``."""
    view = as_strided(acc, shape=acc.shape[:2] + tuple(out_sizes),
                      strides=acc.strides[:2] + tuple(e * acc.itemsize for e in steps), writeable=False)
    return np.ascontiguousarray(view)


def _depthwise_flat(xp: np.ndarray, w: np.ndarray, dilations, out_sizes) -> np.ndarray:
    """Stride-1 depthwise: each tap reads a contiguous shifted slice of the flat padded input."""
    n, groups, out_per_group = xp.shape[0], w.shape[0], w.shape[1]
    steps, span = _padded_grid(xp, out_sizes)
    flat = xp.reshape(n, groups, 1, -1)
    acc = np.zeros((n, groups, out_per_group, span), dtype=xp.dtype)
    term = np.empty_like(acc)
    for tap, offset in _tap_offsets(w.shape[3:], dilations, steps):
        coeff = w[(slice(None), slice(None), 0) + tap][None, :, :, None]
        np.multiply(flat[..., offset:offset + span], coeff, out=term)
        acc += term
    return _from_padded_grid(acc.reshape(n, groups * out_per_group, span), steps, out_sizes)


def _tap_matmuls(xp: np.ndarray, w: np.ndarray, dilations, out_sizes) -> np.ndarray:
    """Stride-1 convolution as one matmul per kernel tap over shifted slices of the flat padded input."""
    n, groups, out_per_group, in_per_group = xp.shape[0], w.shape[0], w.shape[1], w.shape[2]
    steps, span = _padded_grid(xp, out_sizes)
    flat = xp.reshape(n, groups, in_per_group, -1)
    acc = np.zeros((n, groups, out_per_group, span), dtype=xp.dtype)
    term = np.empty_like(acc)
    for tap, offset in _tap_offsets(w.shape[3:], dilations, steps):
        np.matmul(w[(slice(None),) * 3 + tap], flat[..., offset:offset + span], out=term)
        acc += term
    return _from_padded_grid(acc.reshape(n, groups * out_per_group, span), steps, out_sizes)


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
