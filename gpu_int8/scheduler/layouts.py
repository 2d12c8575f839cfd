"""Activation memory layouts of the two kernel families, and host-side conversions.

* ``nchw``: plain, what models and users see.
* ``nhwc``: the portable family's layout (channels innermost, exact channel count).
* ``fsv16``: the Intel family's channel-blocked layout ``[N][ceil(C/16)][H][W][16]``;
  channels past C are padding (their weights are zero, so their content never matters).

Device-side reorders are gather steps (``scheduler/move_maps.py``); these NumPy
versions are for tests and host staging.
"""

from __future__ import annotations

import numpy as np

LAYOUTS = ("nchw", "nhwc", "fsv16")
#: the value of the ``LAYOUT`` build macro for each layout
LAYOUT_CODES = {"nchw": 0, "nhwc": 1, "fsv16": 2}
BLOCK = 16


def blocks(c: int) -> int:
    return -(-c // BLOCK)


def physical_shape(layout: str, n: int, c: int, h: int, w: int) -> tuple[int, ...]:
    """The array shape a tensor of logical shape (n, c, h, w) has in ``layout``."""
    if layout == "nchw":
        return (n, c, h, w)
    if layout == "nhwc":
        return (n, h, w, c)
    if layout == "fsv16":
        return (n, blocks(c), h, w, BLOCK)
    raise ValueError(f"unknown layout '{layout}'")


def from_nchw(x: np.ndarray, layout: str, pad_value=0) -> np.ndarray:
    """``x`` (N, C, H, W) in ``layout`` (fsv16 padding channels hold ``pad_value``)."""
    if layout == "nchw":
        return np.ascontiguousarray(x)
    if layout == "nhwc":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    if layout == "fsv16":
        n, c, h, w = x.shape
        cb = blocks(c)
        padded = np.full((n, cb * BLOCK, h, w), pad_value, dtype=x.dtype)
        padded[:, :c] = x
        return np.ascontiguousarray(padded.reshape(n, cb, BLOCK, h, w).transpose(0, 1, 3, 4, 2))
    raise ValueError(f"unknown layout '{layout}'")


def to_nchw(x: np.ndarray, layout: str, c: int | None = None) -> np.ndarray:
    """Back to (N, C, H, W); ``c`` is the logical channel count (needed for fsv16)."""
    if layout == "nchw":
        return x
    if layout == "nhwc":
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    if layout == "fsv16":
        n, cb, h, w, _ = x.shape
        full = x.transpose(0, 1, 4, 2, 3).reshape(n, cb * BLOCK, h, w)
        return np.ascontiguousarray(full[:, : (cb * BLOCK if c is None else c)])
    raise ValueError(f"unknown layout '{layout}'")
