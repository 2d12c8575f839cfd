"""What a FakeQuantize with 255/256 levels means in integers: the storage type,
the integer range, and the dequantization of its output."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpu_int8.graph import Node
from gpu_int8.lpt.lpt_graph import LptGraph
from gpu_int8.lpt.qparams import QParams

#: levels that mean 8-bit integers (OpenVINO: "has to be 255 or 256")
INT8_LEVELS = (255, 256)
#: a zero point this close to an integer is taken as that integer
ZERO_POINT_TOLERANCE = 1e-3


@dataclass
class Int8Quantization:
    """FakeQuantize(x) == (Q(x) - zero_point) * scale, with Q(x) stored as ``dtype`` in [qmin, qmax]."""

    dtype: np.dtype
    qmin: int
    qmax: int
    params: QParams


def plan_int8(g: LptGraph, node: Node, signed: bool | None = None) -> Int8Quantization | str:
    """The integer form of FakeQuantize ``node``, or the reason there is none.

    u8 when the output range is non-negative (or ``signed`` is False), i8 otherwise.
    """
    levels = int(node.attrs.get("levels", 0))
    if levels not in INT8_LEVELS:
        return f"FakeQuantize with {levels} levels is not 8-bit (255 or 256)"
    ranges = [g.const(name) for name in node.inputs[1:5]]
    if len(ranges) != 4 or any(r is None for r in ranges):
        return "FakeQuantize ranges are not constant"
    il, ih, ol, oh = (np.asarray(r, np.float64) for r in ranges)
    if not np.all(ih > il):
        return "FakeQuantize input range is empty"
    scale = (oh - ol) / (levels - 1)
    if not np.all(np.isfinite(scale)) or not np.all(scale > 0):
        return "FakeQuantize output range is empty or inverted"
    if signed is None:
        signed = bool(np.any(ol < 0))
    qmin = -(levels // 2) if signed else 0
    zero_point = qmin - ol / scale
    near = np.rint(zero_point)
    zero_point = np.where(np.abs(zero_point - near) < ZERO_POINT_TOLERANCE, near, zero_point)
    rank = len(g.shape(node.inputs[0]))
    params = QParams.from_consts(scale.astype(np.float32), zero_point.astype(np.float32), rank)
    if params is None:
        return "FakeQuantize ranges vary along more than one axis"
    return Int8Quantization(np.dtype(np.int8 if signed else np.uint8), qmin, qmin + levels - 1, params)
