"""Elementwise ONNX ops: activations, arithmetic, comparison, logic, Clip, Cast."""

from __future__ import annotations

import numpy as np

from gpu_int8.frontends.onnx_ops import converter
from gpu_int8.frontends.onnx_ops.context import onnx_dtype, ov_type

UNARY = {
    "Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log", "Abs": "Abs",
    "Neg": "Negative", "Floor": "Floor", "Ceil": "Ceiling", "Sqrt": "Sqrt", "Erf": "Erf", "Sign": "Sign",
    "Sin": "Sin", "Cos": "Cos", "Tan": "Tan", "Sinh": "Sinh", "Cosh": "Cosh", "Asin": "Asin", "Acos": "Acos",
    "Atan": "Atan", "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh", "Softplus": "SoftPlus",
    "Softsign": "SoftSign", "HardSwish": "HSwish", "Mish": "Mish", "Not": "LogicalNot",
}

BINARY = {
    "Add": "Add", "Sub": "Subtract", "Mul": "Multiply", "Equal": "Equal", "Less": "Less", "Greater": "Greater",
    "LessOrEqual": "LessEqual", "GreaterOrEqual": "GreaterEqual", "And": "LogicalAnd", "Or": "LogicalOr",
    "Xor": "LogicalXor",
}

VARIADIC = {"Sum": "Add", "Max": "Maximum", "Min": "Minimum"}


def _scalar(ctx, value, like: str, base: str) -> str:
    """A scalar constant in the float type of ``like`` (float32 when unknown)."""
    dtype = ctx.dtype(like, np.float32)
    if not np.issubdtype(dtype, np.floating):
        dtype = np.dtype(np.float32)
    return ctx.const(np.array(value, dtype=dtype), base)


def _legacy_broadcast_check(node) -> None:
    if node.opset < 7 and node.attr("broadcast", 0) and node.has_attr("axis"):
        raise ValueError("legacy broadcasting with an 'axis' attribute (opset < 7) is not supported")


def _unary(op_type: str):
    def convert(ctx, node):
        node.require_inputs(1)
        ctx.emit(op_type, [node.inputs[0]], node.outputs[:1])
    return convert


def _binary(op_type: str):
    def convert(ctx, node):
        node.require_inputs(2)
        _legacy_broadcast_check(node)
        ctx.emit(op_type, node.inputs[:2], node.outputs[:1], {"auto_broadcast": "numpy"})
    return convert


for _onnx, _ov in UNARY.items():
    converter(_onnx, emits=(_ov,))(_unary(_ov))
for _onnx, _ov in BINARY.items():
    converter(_onnx, emits=(_ov,))(_binary(_ov))


@converter("Div", emits=("Divide",))
def _div(ctx, node):
    node.require_inputs(2)
    _legacy_broadcast_check(node)
    # ONNX integer division truncates toward zero (C semantics)
    ctx.emit("Divide", node.inputs[:2], node.outputs[:1], {"auto_broadcast": "numpy", "m_pythondiv": False})


@converter("Pow", emits=("Power", "ConvertLike"))
def _pow(ctx, node):
    node.require_inputs(2)
    base, exponent = node.inputs[:2]
    base_type, exp_type = ctx.dtype(base), ctx.dtype(exponent)
    if base_type is None or exp_type is None or base_type != exp_type:
        # ONNX lets the exponent have another type; Power wants one type
        exponent = ctx.emit1("ConvertLike", [exponent, base], suffix="exponent")
    ctx.emit("Power", [base, exponent], node.outputs[:1], {"auto_broadcast": "numpy"})


@converter("Mod", emits=("FloorMod", "Mod"))
def _mod(ctx, node):
    node.require_inputs(2)
    op_type = "Mod" if node.attr("fmod", 0) else "FloorMod"  # fmod=1: sign of the dividend
    ctx.emit(op_type, node.inputs[:2], node.outputs[:1], {"auto_broadcast": "numpy"})


@converter("Reciprocal", emits=("Divide",))
def _reciprocal(ctx, node):
    node.require_inputs(1)
    one = _scalar(ctx, 1.0, node.inputs[0], "one")
    ctx.emit("Divide", [one, node.inputs[0]], node.outputs[:1], {"auto_broadcast": "numpy"})


@converter("Where", emits=("Select",))
def _where(ctx, node):
    node.require_inputs(3)
    ctx.emit("Select", node.inputs[:3], node.outputs[:1], {"auto_broadcast": "numpy"})


@converter("Sum", "Max", "Min", emits=("Add", "Maximum", "Minimum"))
def _variadic(ctx, node):
    op_type = VARIADIC[node.op_type]
    _chain(ctx, node, op_type, node.outputs[0])


def _chain(ctx, node, op_type: str, output: str) -> str:
    inputs = [n for n in node.inputs if n]
    if not inputs:
        raise ValueError(f"{node.op_type} needs at least one input")
    if len(inputs) == 1:
        if output:
            ctx.alias(output, inputs[0])
        return inputs[0]
    acc = inputs[0]
    for i, other in enumerate(inputs[1:], start=2):
        last = i == len(inputs)
        acc = ctx.emit1(op_type, [acc, other], output if last else "", {"auto_broadcast": "numpy"},
                        suffix=None if last and output else f"{op_type}{i}")
    return acc


@converter("Mean", emits=("Add", "Divide"))
def _mean(ctx, node):
    count = len([n for n in node.inputs if n])
    if count == 1:
        _chain(ctx, node, "Add", node.outputs[0])
        return
    total = _chain(ctx, node, "Add", "")
    divisor = _scalar(ctx, float(count), node.inputs[0], "count")
    ctx.emit("Divide", [total, divisor], node.outputs[:1], {"auto_broadcast": "numpy"})


# -- activations with parameters -------------------------------------------------

@converter("Round", emits=("Round",))
def _round(ctx, node):
    node.require_inputs(1)
    ctx.emit("Round", [node.inputs[0]], node.outputs[:1], {"mode": "half_to_even"})


@converter("Elu", emits=("Elu",))
def _elu(ctx, node):
    node.require_inputs(1)
    ctx.emit("Elu", [node.inputs[0]], node.outputs[:1], {"alpha": float(node.attr("alpha", 1.0))})


@converter("Selu", emits=("Selu",))
def _selu(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    alpha = _scalar(ctx, node.attr("alpha", 1.67326319217681884765625), x, "alpha")
    gamma = _scalar(ctx, node.attr("gamma", 1.05070102214813232421875), x, "lambda")
    ctx.emit("Selu", [x, alpha, gamma], node.outputs[:1])


@converter("Gelu", emits=("Gelu",))
def _gelu(ctx, node):
    node.require_inputs(1)
    approximate = node.attr("approximate", "none")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"Gelu approximate='{approximate}' is not supported")
    ctx.emit("Gelu", [node.inputs[0]], node.outputs[:1],
             {"approximation_mode": "TANH" if approximate == "tanh" else "ERF"})


@converter("Swish", emits=("Swish",))
def _swish(ctx, node):
    node.require_inputs(1)
    beta = _scalar(ctx, node.attr("alpha", 1.0), node.inputs[0], "beta")
    ctx.emit("Swish", [node.inputs[0], beta], node.outputs[:1])


@converter("HardSigmoid", emits=("HardSigmoid",))
def _hard_sigmoid(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    alpha = _scalar(ctx, node.attr("alpha", 0.2), x, "alpha")
    beta = _scalar(ctx, node.attr("beta", 0.5), x, "beta")
    ctx.emit("HardSigmoid", [x, alpha, beta], node.outputs[:1])


@converter("LeakyRelu", emits=("PRelu",))
def _leaky_relu(ctx, node):
    node.require_inputs(1)
    slope = _scalar(ctx, node.attr("alpha", 0.01), node.inputs[0], "slope")
    ctx.emit("PRelu", [node.inputs[0], slope], node.outputs[:1])


@converter("PRelu", emits=("PRelu", "Unsqueeze"))
def _prelu(ctx, node):
    node.require_inputs(2)
    x, slope = node.inputs[:2]
    rank, slope_rank = ctx.rank(x), ctx.rank(slope)
    # ONNX broadcasts the slope numpy-style; give it the full rank so that
    # OpenVINO's "1-D slope runs along the channel axis" rule cannot apply
    if rank is not None and slope_rank is not None and 0 < slope_rank < rank:
        lead = list(range(rank - slope_rank))
        data = ctx.const_value(slope)
        if data is not None:
            slope = ctx.const(data.reshape([1] * len(lead) + list(data.shape)), "slope")
        else:
            slope = ctx.emit1("Unsqueeze", [slope, ctx.const(np.array(lead, np.int64), "axes")], suffix="slope")
    ctx.emit("PRelu", [x, slope], node.outputs[:1])


@converter("Clip", emits=("Clamp", "Maximum", "Minimum"))
def _clip(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    if node.opset < 11:
        low, high = node.attr("min", None), node.attr("max", None)
        low_name = high_name = ""
    else:
        low_name, high_name = node.input(1), node.input(2)
        low = _const_scalar(ctx, low_name)
        high = _const_scalar(ctx, high_name)
    if (low_name and low is None) or (high_name and high is None):
        # bounds computed at run time: Maximum/Minimum keep the ONNX meaning
        out = x
        if low_name:
            last = not high_name
            out = ctx.emit1("Maximum", [out, low_name], node.outputs[0] if last else "",
                            {"auto_broadcast": "numpy"}, suffix=None if last else "min")
        if high_name:
            ctx.emit1("Minimum", [out, high_name], node.outputs[0], {"auto_broadcast": "numpy"})
        return
    dtype = ctx.dtype(x, np.float32)
    if low is None:
        low = float(np.iinfo(dtype).min) if np.issubdtype(dtype, np.integer) else -np.inf
    if high is None:
        high = float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else np.inf
    low = min(low, high)  # ONNX: min above max gives max everywhere
    ctx.emit("Clamp", [x], node.outputs[:1], {"min": float(low), "max": float(high)})


def _const_scalar(ctx, name: str):
    data = ctx.const_value(name)
    if data is None or data.size != 1:
        return None
    return data.reshape(()).item()


# -- type conversion ----------------------------------------------------------------

@converter("Cast", emits=("Convert",))
def _cast(ctx, node):
    node.require_inputs(1)
    dtype = onnx_dtype(node.attr("to"))
    ctx.emit("Convert", [node.inputs[0]], node.outputs[:1], {"destination_type": ov_type(dtype)})


@converter("CastLike", emits=("ConvertLike",))
def _cast_like(ctx, node):
    node.require_inputs(2)
    ctx.emit("ConvertLike", node.inputs[:2], node.outputs[:1])
