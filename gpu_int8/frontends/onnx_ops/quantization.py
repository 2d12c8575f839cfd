"""QuantizeLinear / DequantizeLinear.

* A QuantizeLinear whose every consumer is a DequantizeLinear with the same
  scale and zero point is one FakeQuantize (levels 2^bits): the input and the
  output range are both scale*(qmin-zp) .. scale*(qmax-zp).
* A DequantizeLinear of an int8/uint8 constant (ONNX Runtime's QDQ weights) is
  the weight form NNCF writes: i8 Constant -> Convert(f32) -> [Subtract zp] ->
  Multiply(scale), which LPT folds into int8 weights.
* Any other Q or DQ becomes its exact float equivalent (Q: Divide, Round half
  to even, Add zp, Clamp, Convert; DQ: Convert, Subtract zp, Multiply scale).
"""

from __future__ import annotations

import numpy as np

from gpu_int8.frontends.onnx_ops import converter
from gpu_int8.frontends.onnx_ops.context import onnx_dtype, ov_type

QUANT_TYPES = (np.uint8, np.int8, np.uint16, np.int16)


def _check_blocked(node) -> None:
    if node.attr("block_size", 0):
        raise ValueError(f"{node.op_type} with block_size (blocked quantization) is not supported")


def _quant_dtype(ctx, node, zp: str) -> np.dtype:
    if zp:
        dtype = ctx.dtype(zp)
        if dtype is None:
            raise ValueError(f"the type of zero point '{zp}' is unknown")
    elif node.has_attr("output_dtype") and node.attr("output_dtype"):
        dtype = onnx_dtype(node.attr("output_dtype"))
    else:
        dtype = np.dtype(np.uint8)
    if dtype not in [np.dtype(t) for t in QUANT_TYPES]:
        raise ValueError(f"quantization to {dtype} is not supported (uint8, int8, uint16, int16 are)")
    return np.dtype(dtype)


def _axis_shape(ctx, x: str, size: int, axis: int) -> list[int]:
    rank = ctx.need_rank(x, "per-axis quantization")
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise ValueError(f"quantization axis {axis} is out of range for rank {rank}")
    shape = [1] * rank
    shape[axis] = size
    return shape


def _shaped(ctx, name: str, x: str, axis: int, what: str, dtype=None) -> str:
    """Scale or zero point shaped to broadcast against x (per-axis: along ``axis``)."""
    data = ctx.const_value(name)
    if data is not None:
        data = np.asarray(data if dtype is None else data.astype(dtype))
        if data.ndim == 1 and data.size > 1:
            data = data.reshape(_axis_shape(ctx, x, data.size, axis))
        elif data.size == 1:
            data = data.reshape(())
        return ctx.const(data, what)
    per_axis = ctx.rank(name) == 1
    if dtype is not None:
        name = ctx.emit1("Convert", [name], attrs={"destination_type": ov_type(dtype)}, suffix=f"{what}_float")
    if per_axis:
        target = _axis_shape(ctx, x, -1, axis)
        name = ctx.emit1("Reshape", [name, ctx.const(np.array(target, np.int64), f"{what}_shape")],
                         attrs={"special_zero": False}, suffix=what)
    return name


def _same(ctx, a: str, b: str) -> bool:
    if not a or not b:
        return not a and not b
    da, db = ctx.const_value(a), ctx.const_value(b)
    if da is None or db is None:
        return ctx.resolve(a) == ctx.resolve(b)
    return da.dtype == db.dtype and da.shape == db.shape and bool(np.array_equal(da, db))


def _pair_dequantizers(ctx, node) -> list | None:
    """The DequantizeLinear nodes that undo this QuantizeLinear, when they are all its consumers."""
    q_out = node.outputs[0]
    users = ctx.onnx_consumers.get(q_out, [])
    if not users or q_out in ctx.onnx_outputs:
        return None
    scale, zp = node.input(1), node.input(2)
    q_axis = node.attr("axis", 1)
    for user in users:
        if user.op_type != "DequantizeLinear" or list(user.input).index(q_out) != 0:
            return None
        inputs = list(user.input) + ["", ""]
        axis = next((a.i for a in user.attribute if a.name == "axis"), 1)
        if any(a.name == "block_size" and a.i for a in user.attribute):
            return None
        user_zp = ctx.resolve(inputs[2]) if inputs[2] else ""
        if not _same(ctx, ctx.resolve(inputs[1]), scale) or not _same(ctx, user_zp, zp):
            return None
        scale_data = ctx.const_value(scale)
        if axis != q_axis and scale_data is not None and scale_data.size > 1:
            return None
    return users


@converter("QuantizeLinear", emits=("FakeQuantize", "Divide", "Round", "Add", "Clamp", "Convert", "Reshape"))
def _quantize(ctx, node):
    node.require_inputs(2)
    _check_blocked(node)
    x, scale, zp = node.input(0), node.input(1), node.input(2)
    qtype = _quant_dtype(ctx, node, zp)
    qmin, qmax = int(np.iinfo(qtype).min), int(np.iinfo(qtype).max)
    axis = int(node.attr("axis", 1))
    users = _pair_dequantizers(ctx, node)
    scale_data = ctx.const_value(scale)
    zp_data = ctx.const_value(zp) if zp else np.zeros((), qtype)
    if users and scale_data is not None and zp_data is not None:
        _fake_quantize(ctx, node, x, scale_data, zp_data, axis, qmin, qmax, users)
        return
    ftype = ctx.dtype(x, np.float32)
    y = ctx.emit1("Divide", [x, _shaped(ctx, scale, x, axis, "scale")],
                  attrs={"auto_broadcast": "numpy", "m_pythondiv": False}, suffix="divide")
    y = ctx.emit1("Round", [y], attrs={"mode": "half_to_even"}, suffix="round")
    if zp and (zp_data is None or np.any(zp_data != 0)):
        y = ctx.emit1("Add", [y, _shaped(ctx, zp, x, axis, "zero_point", ftype)], attrs={"auto_broadcast": "numpy"},
                      suffix="add_zero_point")
    y = ctx.emit1("Clamp", [y], attrs={"min": float(qmin), "max": float(qmax)}, suffix="saturate")
    ctx.emit("Convert", [y], node.outputs[:1], {"destination_type": ov_type(qtype)})


def _fake_quantize(ctx, node, x, scale, zp, axis, qmin, qmax, users) -> None:
    scale = np.asarray(scale, np.float32)
    if scale.size > 1 and scale.ndim == 1:
        shape = _axis_shape(ctx, x, scale.size, axis)
    else:
        shape = ()
    scale = scale.reshape(shape)
    zp = np.asarray(zp).astype(np.float32).reshape(shape if np.asarray(zp).size > 1 else ())
    low = (scale * (np.float32(qmin) - zp)).astype(np.float32)
    high = (scale * (np.float32(qmax) - zp)).astype(np.float32)
    low_name, high_name = ctx.const(low, "input_low"), ctx.const(high, "input_high")
    out_low, out_high = ctx.const(low.copy(), "output_low"), ctx.const(high.copy(), "output_high")
    output = users[0].output[0]
    ctx.emit("FakeQuantize", [x, low_name, high_name, out_low, out_high], [output],
             {"levels": qmax - qmin + 1, "auto_broadcast": "numpy"})
    for user in users:
        ctx.skip.add(id(user))
        if user.output[0] != output:
            ctx.alias(user.output[0], output)


@converter("DequantizeLinear", emits=("Convert", "Subtract", "Multiply", "Reshape"))
def _dequantize(ctx, node):
    node.require_inputs(2)
    _check_blocked(node)
    x, scale, zp = node.input(0), node.input(1), node.input(2)
    axis = int(node.attr("axis", 1))
    ftype = ctx.dtype(scale, np.float32)
    y = ctx.emit1("Convert", [x], attrs={"destination_type": ov_type(ftype)}, suffix="convert")
    zp_data = ctx.const_value(zp) if zp else None
    if zp and (zp_data is None or np.any(zp_data != 0)):
        y = ctx.emit1("Subtract", [y, _shaped(ctx, zp, x, axis, "zero_point", ftype)],
                      attrs={"auto_broadcast": "numpy"}, suffix="subtract_zero_point")
    ctx.emit("Multiply", [y, _shaped(ctx, scale, x, axis, "scale")], node.outputs[:1], {"auto_broadcast": "numpy"})
