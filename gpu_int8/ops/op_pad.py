"""Pad-1/12: ``pads_begin``/``pads_end`` inputs per axis, optional scalar
``pad_value`` (constant mode); pad_mode constant, edge, reflect or symmetric.
Negative pads (v12) crop; the crop comes first, then the padding mirrors or
repeats the cropped data."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops.base import Attr, Op

_NUMPY_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


class Pad(Op):
    attributes = {"pad_mode": Attr("str", "constant")}

    @classmethod
    def _pads(cls, rank: int, pads_begin, pads_end):
        begin = [int(v) for v in np.asarray(pads_begin).reshape(-1)]
        end = [int(v) for v in np.asarray(pads_end).reshape(-1)]
        if len(begin) != rank or len(end) != rank:
            raise ValueError(f"pads_begin {begin} / pads_end {end} must have {rank} values")
        return begin, end

    @classmethod
    def run(cls, node, x, pads_begin, pads_end, pad_value=None):
        begin, end = cls._pads(x.ndim, pads_begin, pads_end)
        mode = str(cls.attr(node, "pad_mode")).lower()
        if mode not in _NUMPY_MODES:
            raise ValueError(f"pad_mode '{mode}' is not one of {', '.join(_NUMPY_MODES)}")
        crop = tuple(slice(max(0, -b), n - max(0, -e)) for n, b, e in zip(x.shape, begin, end))
        y = x[crop]
        if any(s < 0 for s in y.shape):
            raise ValueError(f"negative pads crop more than data {list(x.shape)} holds")
        widths = [(max(0, b), max(0, e)) for b, e in zip(begin, end)]
        if not any(b or e for b, e in widths):
            return (np.array(y),)
        if mode == "constant":
            value = np.asarray(pad_value).reshape(()).astype(x.dtype) if pad_value is not None else x.dtype.type(0)
            return (np.pad(y, widths, mode="constant", constant_values=value),)
        limit = 1 if mode == "reflect" else 0
        for (b, e), n in zip(widths, y.shape):
            if max(b, e) > n - limit:
                raise ValueError(f"{mode} padding of {max(b, e)} exceeds what an axis of {n} can mirror")
        return (np.pad(y, widths, mode=_NUMPY_MODES[mode]),)

    @classmethod
    def infer(cls, node, inputs):
        x, pads_begin, pads_end = inputs[:3]
        if not (pads_begin.is_const and pads_end.is_const):
            raise ValueError("pads_begin and pads_end must be constants")
        begin, end = cls._pads(len(x.shape), pads_begin.data, pads_end.data)
        shape = tuple(n + b + e for n, b, e in zip(x.shape, begin, end))
        if any(d < 0 for d in shape):
            raise ValueError(f"negative pads give shape {list(shape)}")
        return [(shape, x.dtype)]
