"""A tiny NumPy integer reference for the kernel tests (exact on integers).

It follows the numerics contract: int64 accumulation of the window (padded taps
read the activation zero point), plus the per-channel compensation, then
``q = sat(rint(acc * m[c] + b[c]))`` in float32 (two roundings, half to even),
clamped to [lo, hi].
"""

from __future__ import annotations

import numpy as np


def conv_acc(x, w, comp, *, stride=(1, 1), pads_begin=(0, 0), pads_end=(0, 0), dilation=(1, 1),
             groups=1, pad_value=0) -> np.ndarray:
    """int64 accumulators (N, COUT, OH, OW) of x (N, C, H, W) * w (COUT, CIN_G, KH, KW) + comp."""
    n, c, h, wd = x.shape
    cout, cin_g, kh, kw = w.shape
    xp = np.full((n, c, h + pads_begin[0] + pads_end[0], wd + pads_begin[1] + pads_end[1]), pad_value, np.int64)
    xp[:, :, pads_begin[0]:pads_begin[0] + h, pads_begin[1]:pads_begin[1] + wd] = x
    oh = (xp.shape[2] - ((kh - 1) * dilation[0] + 1)) // stride[0] + 1
    ow = (xp.shape[3] - ((kw - 1) * dilation[1] + 1)) // stride[1] + 1
    cols = np.empty((n, c, kh, kw, oh, ow), np.int64)
    for i in range(kh):
        for j in range(kw):
            hs, ws = i * dilation[0], j * dilation[1]
            cols[:, :, i, j] = xp[:, :, hs:hs + stride[0] * (oh - 1) + 1:stride[0],
                                  ws:ws + stride[1] * (ow - 1) + 1:stride[1]]
    cout_g = cout // groups
    out = np.empty((n, cout, oh, ow), np.int64)
    for g in range(groups):
        xc = cols[:, g * cin_g:(g + 1) * cin_g].reshape(n, cin_g * kh * kw, oh * ow)
        wg = w[g * cout_g:(g + 1) * cout_g].reshape(cout_g, cin_g * kh * kw).astype(np.int64)
        out[:, g * cout_g:(g + 1) * cout_g] = np.einsum("ok,nkp->nop", wg, xc).reshape(n, cout_g, oh, ow)
    return out + np.asarray(comp, np.int64).reshape(1, cout, 1, 1)


def affine(acc, m, b, channel_axis=1) -> np.ndarray:
    """acc * m[c] + b[c] in float32, two roundings."""
    shape = [1] * acc.ndim
    shape[channel_axis] = -1
    p = acc.astype(np.float32) * np.asarray(m, np.float32).reshape(shape)
    return p + np.asarray(b, np.float32).reshape(shape)


def round_clamp(v, lo, hi, dtype) -> np.ndarray:
    return np.clip(np.rint(v), lo, hi).astype(dtype)


def requant(acc, m, b, lo, hi, dtype, channel_axis=1) -> np.ndarray:
    return round_clamp(affine(acc, m, b, channel_axis), lo, hi, dtype)
