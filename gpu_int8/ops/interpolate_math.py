"""Per-axis resampling rules of Interpolate (OpenVINO's reference, float32 coordinates).

Every mode OpenVINO's reference computes is separable: the output along one
axis depends on that axis' coordinate only (linear mode renormalizes the
product of per-axis weights, which equals renormalizing each axis), so an
axis resamples with an index vector (nearest) or a ``[out, in]`` weight matrix.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32
TRANSFORMS = ("half_pixel", "pytorch_half_pixel", "asymmetric", "tf_half_pixel_for_nn", "align_corners")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")


def source_coords(mode: str, out_len: int, in_len: int, scale: float) -> np.ndarray:
    """Input coordinate of each output position along one axis."""
    x = np.arange(out_len, dtype=F32)
    scale, m, n = F32(scale), F32(out_len), F32(in_len)
    if scale == 1 or out_len == in_len:
        return x
    half = F32(0.5)
    if mode == "half_pixel":
        return (x + half) / scale - half
    if mode == "pytorch_half_pixel":
        return (x + half) / scale - half if out_len > 1 else np.zeros_like(x)
    if mode == "asymmetric":
        return x / scale
    if mode == "tf_half_pixel_for_nn":
        return (x + half) / scale
    if mode == "align_corners":
        return x * (n - 1) / (m - 1) if out_len > 1 else np.zeros_like(x)
    raise ValueError(f"coordinate_transformation_mode '{mode}' is not one of {', '.join(TRANSFORMS)}")


def round_half_away(x: np.ndarray) -> np.ndarray:
    """std::round: halves go away from zero."""
    return np.sign(x) * np.floor(np.abs(x) + F32(0.5))


def nearest_indices(mode: str, coords: np.ndarray, in_len: int, downsample: bool) -> np.ndarray:
    """The input index each output position copies."""
    if mode == "round_prefer_floor":
        index = np.where(coords == np.trunc(coords) + F32(0.5), np.floor(coords), round_half_away(coords))
    elif mode == "round_prefer_ceil":
        index = round_half_away(coords)
    elif mode == "floor":
        index = np.floor(coords)
    elif mode == "ceil":
        index = np.ceil(coords)
    elif mode == "simple":
        index = np.ceil(coords) if downsample else np.trunc(coords)
    else:
        raise ValueError(f"nearest_mode '{mode}' is not one of {', '.join(NEAREST_MODES)}")
    return np.clip(index.astype(np.int64), 0, in_len - 1)


def linear_onnx_weights(coords: np.ndarray, in_len: int) -> np.ndarray:
    """Two-tap linear interpolation with the coordinate clamped into the input."""
    c = np.clip(coords, F32(0), F32(in_len - 1))
    lo = np.minimum(c.astype(np.int64), in_len - 1)
    hi = np.minimum(lo + 1, in_len - 1)
    w_hi = np.abs(c - lo.astype(F32))
    w_lo = np.abs(c - hi.astype(F32))
    same = lo == hi
    w_hi[same] = w_lo[same] = F32(0.5)
    matrix = np.zeros((len(coords), in_len), dtype=F32)
    rows = np.arange(len(coords))
    np.add.at(matrix, (rows, lo), w_lo)
    np.add.at(matrix, (rows, hi), w_hi)
    return matrix


def linear_weights(coords: np.ndarray, in_len: int, scale: float, a: float) -> np.ndarray:
    """Triangle filter of width ``1/a`` (``a`` < 1 when antialiasing a downscale), taps
    outside the input dropped and the rest renormalized."""
    a = F32(a)
    radius = 2 if scale > 1 else int(np.ceil(F32(2) / a))
    centre = round_half_away(coords).astype(np.int64)
    matrix = np.zeros((len(coords), in_len), dtype=np.float64)
    for offset in range(-radius, radius + 1):
        index = centre + offset
        inside = (index >= 0) & (index < in_len)
        weight = a * np.maximum(F32(0), F32(1) - np.abs(a * (coords - index.astype(F32))))
        rows = np.nonzero(inside)[0]
        np.add.at(matrix, (rows, index[inside]), weight[inside])
    total = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, total, out=np.zeros_like(matrix), where=total != 0).astype(F32)


def cubic_weights(coords: np.ndarray, in_len: int, a: float) -> np.ndarray:
    """Keys cubic convolution (coefficient ``a`` = cube_coeff) over 4 taps, indices clamped."""
    a = F32(a)
    base = np.floor(coords)
    s = np.abs(coords - base)
    coeffs = [
        ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a,
        ((a + 2) * s - (a + 3)) * s * s + 1,
        ((a + 2) * (1 - s) - (a + 3)) * (1 - s) * (1 - s) + 1,
        ((a * (2 - s) - 5 * a) * (2 - s) + 8 * a) * (2 - s) - 4 * a,
    ]
    matrix = np.zeros((len(coords), in_len), dtype=F32)
    rows = np.arange(len(coords))
    for tap, coeff in enumerate(coeffs):
        index = np.clip(base.astype(np.int64) + tap - 1, 0, in_len - 1)
        np.add.at(matrix, (rows, index), coeff.astype(F32))
    return matrix
