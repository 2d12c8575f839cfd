"""Resize and Upsample -> Interpolate (opset 11 semantics)."""

from __future__ import annotations

import numpy as np

from gpu_int8.frontends.onnx_ops import converter

MODES = {"nearest": "nearest", "linear": "linear_onnx", "bilinear": "linear_onnx", "cubic": "cubic"}
COORDINATE_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _attrs(mode: str, shape_calculation: str, coordinate: str, nearest: str, cube_coeff: float = -0.75,
           antialias: bool = False) -> dict:
    return {"mode": MODES[mode], "shape_calculation_mode": shape_calculation,
            "coordinate_transformation_mode": coordinate, "nearest_mode": nearest, "antialias": antialias,
            "cube_coeff": cube_coeff, "pads_begin": [0], "pads_end": [0], "opset": 11}


def _mode(node) -> str:
    mode = node.attr("mode", "nearest")
    if mode not in MODES:
        raise ValueError(f"{node.op_type} mode '{mode}' is not one of {sorted(MODES)}")
    return mode


def _present(ctx, name: str) -> bool:
    """An optional input given and not an empty tensor (exporters pass empty scales beside sizes)."""
    if not name:
        return False
    data = ctx.const_value(name)
    return data is None or data.size > 0


@converter("Upsample", emits=("Interpolate",))
def _upsample(ctx, node):
    node.require_inputs(1)
    mode = _mode(node)
    if node.opset < 9:
        scales = ctx.const(np.array(node.attr("scales"), np.float32), "scales")
    else:
        node.require_inputs(2)
        scales = node.inputs[1]
    # Upsample (and Resize-10) index the input at floor(out / scale)
    ctx.emit("Interpolate", [node.inputs[0], scales], node.outputs[:1],
             _attrs(mode, "scales", "asymmetric", "floor"))


@converter("Resize", emits=("Interpolate",))
def _resize(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    mode = _mode(node)
    if node.opset < 11:
        node.require_inputs(2)
        ctx.emit("Interpolate", [x, node.inputs[1]], node.outputs[:1], _attrs(mode, "scales", "asymmetric", "floor"))
        return
    coordinate = node.attr("coordinate_transformation_mode", "half_pixel")
    if coordinate not in COORDINATE_MODES:
        raise ValueError(f"Resize coordinate_transformation_mode '{coordinate}' is not supported")
    nearest = node.attr("nearest_mode", "round_prefer_floor")
    if nearest not in NEAREST_MODES:
        raise ValueError(f"Resize nearest_mode '{nearest}' is not supported")
    if node.attr("exclude_outside", 0):
        raise ValueError("Resize with exclude_outside=1 is not supported")
    if node.attr("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise ValueError("Resize keep_aspect_ratio_policy other than 'stretch' is not supported")
    scales, sizes = node.input(2), node.input(3)
    if _present(ctx, sizes):
        inputs, calculation = [x, sizes], "sizes"
    elif _present(ctx, scales):
        inputs, calculation = [x, scales], "scales"
    else:
        raise ValueError("Resize needs scales or sizes")
    axes = node.attr("axes", None)
    if axes is not None:
        inputs.append(ctx.const(np.array(axes, np.int64), "axes"))
    attrs = _attrs(mode, calculation, coordinate, nearest, float(node.attr("cubic_coeff_a", -0.75)),
                   bool(node.attr("antialias", 0)))
    ctx.emit("Interpolate", inputs, node.outputs[:1], attrs)
