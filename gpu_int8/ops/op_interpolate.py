"""Interpolate-1/4/11 (``attrs["opset"]``: 1, 4, or 11, the default).

Inputs: v11 ``(data, scales_or_sizes, [axes])``; v4 ``(data, sizes, scales,
[axes])``; v1 ``(data, target_spatial_shape)`` with the ``axes`` attribute.
The data is first zero-padded by pads_begin/pads_end; the output size on each
of ``axes`` is then ``sizes[i]`` or ``floor(padded * scales[i])`` by
``shape_calculation_mode``, and coordinates map back with the given scales
(scales mode) or ``out / padded`` (sizes mode).  Modes: nearest, linear,
linear_onnx, cubic (see :mod:`gpu_int8.ops.interpolate_math`); the Pillow
modes are not supported.  v1 maps onto v4 the way OpenVINO's reference does.
``antialias`` (linear mode) follows the reference; OpenVINO's CPU plugin
ignores it.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import interpolate_math as im
from gpu_int8.ops import spatial
from gpu_int8.ops.base import Attr, Op

MODES = ("nearest", "linear", "linear_onnx", "cubic")


def _ordered_axes(axes, rank: int) -> tuple[int, ...]:
    """Axes in their given order (it pairs them with sizes/scales), negatives from the end."""
    out = []
    for a in np.asarray(axes).reshape(-1):
        if not -rank <= int(a) < rank:
            raise ValueError(f"axis {int(a)} is out of range for rank {rank}")
        out.append(int(a) % rank)
    if len(set(out)) != len(out):
        raise ValueError(f"axes {out} repeat")
    return tuple(out)


class Interpolate(Op):
    attributes = {
        "mode": Attr("str"),
        "shape_calculation_mode": Attr("str", "sizes"),
        "coordinate_transformation_mode": Attr("str", "half_pixel"),
        "nearest_mode": Attr("str", "round_prefer_floor"),
        "antialias": Attr("bool", False),
        "pads_begin": Attr("ints", ()),
        "pads_end": Attr("ints", ()),
        "cube_coeff": Attr("float", -0.75),
        "axes": Attr("ints", ()),  # v1 only
        "align_corners": Attr("bool", True),  # v1 only
    }

    @classmethod
    def plan(cls, node, x_shape: tuple, args) -> dict:
        """Everything but the data: padding, axes, output shape, scales and the v4 attributes."""
        rank = len(x_shape)
        opset = node.attrs.get("opset", 11)
        pads_begin = cls._pads(cls.attr(node, "pads_begin"), rank)
        pads_end = cls._pads(cls.attr(node, "pads_end"), rank)
        padded = tuple(n + b + e for n, b, e in zip(x_shape, pads_begin, pads_end))
        if opset == 1:
            return cls._plan_v1(node, padded, pads_begin, pads_end, args)
        args = list(args) + [None] * 3
        if opset == 4:
            sizes, scales, axes = args[0], args[1], args[2]
        else:
            sizes = scales = args[0]
            axes = args[1]
        axes = _ordered_axes(axes, rank) if axes is not None else tuple(range(rank))
        by_scales = str(cls.attr(node, "shape_calculation_mode")).lower() == "scales"
        out = list(padded)
        if by_scales:
            factors = [float(v) for v in np.asarray(scales, dtype=np.float32).reshape(-1)]
            if len(factors) < len(axes):
                raise ValueError(f"{len(factors)} scales for {len(axes)} axes")
            for axis, factor in zip(axes, factors):
                out[axis] = int(np.floor(np.float32(padded[axis]) * np.float32(factor) + np.float32(1e-5)))
        else:
            wanted = [int(v) for v in np.asarray(sizes).reshape(-1)]
            if len(wanted) < len(axes):
                raise ValueError(f"{len(wanted)} sizes for {len(axes)} axes")
            for axis, size in zip(axes, wanted):
                out[axis] = size
            factors = [float(np.float32(out[a]) / np.float32(padded[a])) for a in axes]
        if any(d < 1 for d in out):
            raise ValueError(f"output shape {out} is not positive")
        mode = str(cls.attr(node, "mode")).lower()
        if mode not in MODES:
            raise ValueError(f"mode '{mode}' is not supported (one of {', '.join(MODES)})")
        return dict(pads_begin=pads_begin, pads_end=pads_end, axes=list(axes), out=tuple(out), scales=factors,
                    mode=mode, transform=str(cls.attr(node, "coordinate_transformation_mode")).lower(),
                    nearest=str(cls.attr(node, "nearest_mode")).lower(), antialias=cls.attr(node, "antialias"),
                    cube_coeff=cls.attr(node, "cube_coeff"))

    @classmethod
    def _plan_v1(cls, node, padded, pads_begin, pads_end, args) -> dict:
        rank = len(padded)
        axes = _ordered_axes(cls.attr(node, "axes"), rank)
        wanted = [int(v) for v in np.asarray(args[0]).reshape(-1)]
        if len(wanted) != len(axes):
            raise ValueError(f"target_spatial_shape {wanted} does not match axes {list(axes)}")
        out = list(padded)
        for axis, size in zip(axes, wanted):
            out[axis] = size
        mode = str(cls.attr(node, "mode")).lower()
        if mode == "linear":
            mode = "linear_onnx" if rank < 5 else "linear"
        if mode not in MODES:
            raise ValueError(f"mode '{mode}' is not supported (one of {', '.join(MODES)})")
        transform = "asymmetric"
        if cls.attr(node, "align_corners"):
            transform = "align_corners"
        elif (mode in ("linear", "linear_onnx") and not any(pads_begin) and not any(pads_end)
              and not (rank == 4 and set(axes) == {2, 3})):
            transform = "half_pixel"
        return dict(pads_begin=pads_begin, pads_end=pads_end, axes=list(axes), out=tuple(out),
                    scales=[float(np.float32(out[a]) / np.float32(padded[a])) for a in axes], mode=mode,
                    transform=transform, nearest="simple", antialias=cls.attr(node, "antialias"), cube_coeff=-0.75)

    @staticmethod
    def _pads(values, rank: int) -> tuple:
        values = [int(v) for v in values][:rank]
        if any(v < 0 for v in values):
            raise ValueError("Interpolate pads must not be negative")
        return tuple(values + [0] * (rank - len(values)))

    @classmethod
    def run(cls, node, x, *args):
        p = cls.plan(node, x.shape, args)
        y = np.pad(x, list(zip(p["pads_begin"], p["pads_end"]))) if any(p["pads_begin"] + p["pads_end"]) else x
        if p["mode"] != "nearest":
            y = spatial.float_input(y)
        downsample = any(s < 1 for s in p["scales"])
        for axis, scale in zip(p["axes"], p["scales"]):
            n, m = y.shape[axis], p["out"][axis]
            coords = im.source_coords(p["transform"], m, n, scale)
            if p["mode"] == "nearest":
                y = np.take(y, im.nearest_indices(p["nearest"], coords, n, scale < 1), axis=axis)
                continue
            if p["mode"] == "linear_onnx":
                matrix = im.linear_onnx_weights(coords, n)
            elif p["mode"] == "linear":
                a = scale if (p["antialias"] and downsample) else 1.0
                matrix = im.linear_weights(coords, n, scale, a)
            else:
                matrix = im.cubic_weights(coords, n, p["cube_coeff"])
            y = spatial.apply_matrix(y, axis, matrix)
        if y.dtype != x.dtype:
            if np.issubdtype(x.dtype, np.integer):  # integer data rounds half to even, as OpenVINO's CPU plugin
                info = np.iinfo(x.dtype)
                y = np.clip(np.rint(y), info.min, info.max).astype(x.dtype)
            else:
                y = y.astype(x.dtype)
        return (y,)

    @classmethod
    def infer(cls, node, inputs):
        x, *rest = inputs
        args = []
        for v in rest:
            if v is not None and not v.is_const:
                raise ValueError(f"input '{v.name}' (sizes, scales or axes) must be a constant")
            args.append(None if v is None else v.data)
        return [(cls.plan(node, tuple(x.shape), args)["out"], x.dtype)]
