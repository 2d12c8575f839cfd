"""Window geometry shared by convolutions and pools (OpenVINO rules).

Tensors are ``[N, C, *spatial]``.  A window op has, per spatial axis, a
kernel extent ``k``, a stride ``s``, a dilation ``d`` and pads; the padded
input is read at ``o * s + t * d`` for output position ``o`` and kernel tap
``t``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

AUTO_PADS = ("explicit", "notset", "same_upper", "same_lower", "valid")
ROUNDING_TYPES = ("floor", "ceil", "ceil_torch")


def per_axis(values, count: int, fill: int, name: str) -> tuple[int, ...]:
    """``values`` as ``count`` ints; empty or None means ``fill`` on every axis."""
    if values is None or len(values) == 0:
        return (fill,) * count
    values = tuple(int(v) for v in values)
    if len(values) != count:
        raise ValueError(f"{name} has {len(values)} values for {count} spatial axes")
    return values


def check_auto_pad(auto_pad: str) -> str:
    mode = str(auto_pad).lower()
    if mode not in AUTO_PADS:
        raise ValueError(f"auto_pad '{auto_pad}' is not one of {', '.join(AUTO_PADS)}")
    return mode


def window_geometry(in_sizes, kernel, strides, dilations, pads_begin, pads_end, auto_pad: str,
                    rounding_type: str = "floor"):
    """``(pads_begin, pads_end, out_sizes)`` of a convolution or pooling window.

    ``same_upper``/``same_lower`` give ``ceil(in / stride)`` outputs and put the
    odd pad at the end/begin; ``valid`` pads nothing; ``explicit`` uses the
    given pads.  ``rounding_type`` ceil (pools) keeps a last partial window;
    ``ceil_torch`` drops it when it would start in the end padding.
    """
    auto_pad = check_auto_pad(auto_pad)
    if rounding_type not in ROUNDING_TYPES:
        raise ValueError(f"rounding_type '{rounding_type}' is not one of {', '.join(ROUNDING_TYPES)}")
    begins, ends, outs = [], [], []
    for axis, (n, k, s, d, b, e) in enumerate(zip(in_sizes, kernel, strides, dilations, pads_begin, pads_end)):
        if k < 1 or s < 1 or d < 1:
            raise ValueError(f"kernel {k}, stride {s}, dilation {d} on spatial axis {axis} must be positive")
        extent = d * (k - 1) + 1
        if auto_pad in ("same_upper", "same_lower"):
            out = -(-n // s)
            total = max(0, (out - 1) * s + extent - n)
            small = total // 2
            b, e = (small, total - small) if auto_pad == "same_upper" else (total - small, small)
        else:
            if auto_pad == "valid":
                b = e = 0
            span = n + b + e - extent
            if span < 0:
                raise ValueError(f"window extent {extent} exceeds the padded input {n + b + e} "
                                 f"on spatial axis {axis}")
            out = (span // s if rounding_type == "floor" else -(-span // s)) + 1
            if rounding_type == "ceil_torch" and (out - 1) * s >= n + b:
                out -= 1
        begins.append(b)
        ends.append(e)
        outs.append(out)
    return tuple(begins), tuple(ends), tuple(outs)


def pad_spatial(x: np.ndarray, pads_begin, pads_end, value=0) -> np.ndarray:
    """``x`` with its spatial axes (2..) padded by ``value``; negative pads crop."""
    if not any(pads_begin) and not any(pads_end):
        return x
    crop = tuple(slice(max(0, -b), n - max(0, -e)) for n, b, e in zip(x.shape[2:], pads_begin, pads_end))
    x = x[(slice(None), slice(None)) + crop]
    grow_b = [max(0, b) for b in pads_begin]
    grow_e = [max(0, e) for e in pads_end]
    shape = x.shape[:2] + tuple(n + b + e for n, b, e in zip(x.shape[2:], grow_b, grow_e))
    out = np.full(shape, value, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(b, b + n) for b, n in zip(grow_b, x.shape[2:]))] = x
    return out


def fit_to_windows(xp: np.ndarray, kernel, strides, dilations, out_sizes, value=0) -> np.ndarray:
    """Extend padded ``xp`` at the end so every window of a ceil-rounded op lies inside."""
    need = [(o - 1) * s + d * (k - 1) + 1 for k, s, d, o in zip(kernel, strides, dilations, out_sizes)]
    extra = [max(0, m - n) for m, n in zip(need, xp.shape[2:])]
    return pad_spatial(xp, [0] * len(extra), extra, value) if any(extra) else xp


def window_view(xp: np.ndarray, kernel, strides, dilations, out_sizes) -> np.ndarray:
    """Read-only view ``[N, C, *kernel, *out_sizes]`` of padded ``xp``: element
    ``[n, c, *t, *o]`` is ``xp[n, c, *(o * s + t * d)]``."""
    spatial = xp.strides[2:]
    for n, k, s, d, o in zip(xp.shape[2:], kernel, strides, dilations, out_sizes):
        if o < 1 or (o - 1) * s + (k - 1) * d >= n:
            raise ValueError(f"windows ({o} x stride {s}, kernel {k} dilation {d}) do not fit {n} padded inputs")
    shape = xp.shape[:2] + tuple(kernel) + tuple(out_sizes)
    steps = (xp.strides[:2] + tuple(d * st for d, st in zip(dilations, spatial))
             + tuple(s * st for s, st in zip(strides, spatial)))
    return as_strided(xp, shape=shape, strides=steps, writeable=False)


def tap_slices(tap, strides, dilations, out_sizes) -> tuple[slice, ...]:
    """Spatial slices of a padded input that kernel tap ``tap`` reads for all outputs."""
    return tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, s, d, o in zip(tap, strides, dilations, out_sizes))


def prod(values) -> int:
    return int(math.prod(values))


def float_input(x: np.ndarray) -> np.ndarray:
    """Float32 view/copy for the arithmetic (float16/bf16 inputs computed in float32)."""
    return x if x.dtype == np.float32 or x.dtype == np.float64 else x.astype(np.float32)


def apply_matrix(x: np.ndarray, axis: int, matrix: np.ndarray) -> np.ndarray:
    """Contract axis ``axis`` of ``x`` (length n) with ``matrix [m, n]``: a separable resampling step."""
    y = np.tensordot(x, matrix.astype(x.dtype, copy=False), axes=([axis], [1]))
    return np.moveaxis(y, -1, axis)


def pool_attributes(node, op, x_shape: tuple, dilated: bool):
    """``(kernel, strides, dilations, pads_begin, pads_end, out_sizes)`` of a MaxPool/AvgPool node."""
    rank = len(x_shape) - 2
    if rank < 1:
        raise ValueError(f"pooling needs [N, C, *spatial] data, got {list(x_shape)}")
    kernel = per_axis(op.attr(node, "kernel"), rank, 1, "kernel")
    strides = per_axis(op.attr(node, "strides"), rank, 1, "strides")
    dilations = per_axis(op.attr(node, "dilations") if dilated else (), rank, 1, "dilations")
    pads_begin = per_axis(op.attr(node, "pads_begin"), rank, 0, "pads_begin")
    pads_end = per_axis(op.attr(node, "pads_end"), rank, 0, "pads_end")
    pads_begin, pads_end, out = window_geometry(x_shape[2:], kernel, strides, dilations, pads_begin, pads_end,
                                                op.attr(node, "auto_pad"), op.attr(node, "rounding_type"))
    return kernel, strides, dilations, pads_begin, pads_end, out
