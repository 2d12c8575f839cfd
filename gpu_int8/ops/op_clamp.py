"""Clamp: min(max(x, min), max) with float attributes; for integer x the bounds
are rounded inward (ceil(min), floor(max)), as OpenVINO's spec says."""

import math

import numpy as np

from gpu_int8.ops.base import Attr, Op


class Clamp(Op):
    attributes = {"min": Attr("float"), "max": Attr("float")}

    @classmethod
    def run(cls, node, x):
        lo, hi = float(cls.attr(node, "min")), float(cls.attr(node, "max"))
        if lo > hi:
            raise ValueError(f"Clamp min {lo} is greater than max {hi}")
        if np.issubdtype(x.dtype, np.integer):
            info = np.iinfo(x.dtype)
            lo = max(math.ceil(lo), info.min) if math.isfinite(lo) else (info.min if lo < 0 else info.max)
            hi = min(math.floor(hi), info.max) if math.isfinite(hi) else (info.max if hi > 0 else info.min)
        return (np.clip(x, np.asarray(lo, x.dtype), np.asarray(hi, x.dtype)),)
