"""Normalization and reduction ONNX ops: BatchNormalization, Instance/Layer/MVN norms, Reduce*."""

from __future__ import annotations

import numpy as np

from gpu_int8.frontends.onnx_ops import converter


@converter("BatchNormalization", emits=("BatchNormInference",))
def _batch_norm(ctx, node):
    node.require_inputs(5)
    if node.attr("training_mode", 0) or any(node.output_used(i) for i in range(1, 5)):
        raise ValueError("BatchNormalization in training mode (or with statistics outputs) is not supported")
    if node.opset < 9 and not node.attr("spatial", 1):
        raise ValueError("BatchNormalization with spatial=0 is not supported")
    ctx.emit("BatchNormInference", node.inputs[:5], node.outputs[:1],
             {"epsilon": float(node.attr("epsilon", 1e-5)), "opset": 5})


def _mvn(ctx, x: str, axes: list[int], eps: float, eps_mode: str, output: str = "") -> str:
    axes_name = ctx.const(np.array(axes, np.int64), "axes")
    return ctx.emit1("MVN", [x, axes_name], output,
                     {"normalize_variance": True, "eps": eps, "eps_mode": eps_mode, "opset": 6},
                     suffix=None if output else "mvn")


def _per_channel(ctx, name: str, rank: int, what: str) -> str:
    """A [C] tensor reshaped to [1, C, 1...] so it broadcasts along axis 1."""
    target = [1, -1] + [1] * (rank - 2)
    data = ctx.const_value(name)
    if data is not None:
        return ctx.const(data.reshape(target), what)
    return ctx.emit1("Reshape", [name, ctx.const(np.array(target, np.int64), f"{what}_shape")],
                     attrs={"special_zero": False}, suffix=what)


@converter("InstanceNormalization", emits=("MVN", "Multiply", "Add", "Reshape"))
def _instance_norm(ctx, node):
    node.require_inputs(3)
    x, scale, bias = node.inputs[:3]
    rank = ctx.need_rank(x, node.op_type)
    y = _mvn(ctx, x, list(range(2, rank)), float(node.attr("epsilon", 1e-5)), "inside_sqrt")
    y = ctx.emit1("Multiply", [y, _per_channel(ctx, scale, rank, "scale")], attrs={"auto_broadcast": "numpy"},
                  suffix="scale")
    ctx.emit("Add", [y, _per_channel(ctx, bias, rank, "bias")], node.outputs[:1], {"auto_broadcast": "numpy"})


@converter("LayerNormalization", emits=("MVN", "Multiply", "Add", "ReduceMean", "Subtract", "Sqrt", "Divide"))
def _layer_norm(ctx, node):
    node.require_inputs(2)
    x, scale, bias = node.input(0), node.input(1), node.input(2)
    rank = ctx.need_rank(x, node.op_type)
    axis = int(node.attr("axis", -1))
    axis = axis + rank if axis < 0 else axis
    eps = float(node.attr("epsilon", 1e-5))
    if node.output_used(1) or node.output_used(2):
        _layer_norm_statistics(ctx, node, x, list(range(axis, rank)), eps)
    y = _mvn(ctx, x, list(range(axis, rank)), eps, "inside_sqrt")
    y = ctx.emit1("Multiply", [y, scale], "" if bias else node.outputs[0], {"auto_broadcast": "numpy"},
                  suffix="scale" if bias else None)
    if bias:
        ctx.emit("Add", [y, bias], node.outputs[:1], {"auto_broadcast": "numpy"})


def _layer_norm_statistics(ctx, node, x: str, axes: list[int], eps: float) -> None:
    """LayerNormalization's optional Mean and InvStdDev outputs (kept dims)."""
    axes_name = ctx.const(np.array(axes, np.int64), "stat_axes")
    mean = ctx.emit1("ReduceMean", [x, axes_name], node.outputs[1] if node.output_used(1) else "",
                     {"keep_dims": True}, suffix="mean")
    centered = ctx.emit1("Subtract", [x, mean], attrs={"auto_broadcast": "numpy"}, suffix="centered")
    square = ctx.emit1("Multiply", [centered, centered], attrs={"auto_broadcast": "numpy"}, suffix="square")
    var = ctx.emit1("ReduceMean", [square, axes_name], attrs={"keep_dims": True}, suffix="variance")
    dtype = ctx.dtype(x, np.float32)
    var = ctx.emit1("Add", [var, ctx.const(np.array(eps, dtype), "eps")], attrs={"auto_broadcast": "numpy"},
                    suffix="variance_eps")
    std = ctx.emit1("Sqrt", [var], suffix="std")
    if node.output_used(2):
        ctx.emit("Divide", [ctx.const(np.array(1, dtype), "one"), std], node.outputs[2:3],
                 {"auto_broadcast": "numpy", "m_pythondiv": False}, suffix="inv_std")


@converter("MeanVarianceNormalization", emits=("MVN",))
def _mean_variance_norm(ctx, node):
    node.require_inputs(1)
    axes = list(node.attr("axes", [0, 2, 3]))
    # ONNX's function adds epsilon 1e-9 to the standard deviation
    _mvn(ctx, node.inputs[0], axes, 1e-9, "outside_sqrt", node.outputs[0])


@converter("LpNormalization", emits=("ReduceL1", "ReduceL2", "Maximum", "Divide"))
def _lp_norm(ctx, node):
    node.require_inputs(1)
    p = int(node.attr("p", 2))
    if p not in (1, 2):
        raise ValueError(f"LpNormalization with p={p} is not supported")
    x = node.inputs[0]
    axes = ctx.const(np.array([int(node.attr("axis", -1))], np.int64), "axes")
    norm = ctx.emit1(f"ReduceL{p}", [x, axes], attrs={"keep_dims": True}, suffix="norm")
    tiny = ctx.const(np.array(np.finfo(np.float32).tiny, ctx.dtype(x, np.float32)), "tiny")
    norm = ctx.emit1("Maximum", [norm, tiny], attrs={"auto_broadcast": "numpy"}, suffix="safe_norm")  # 0 / tiny = 0
    ctx.emit("Divide", [x, norm], node.outputs[:1], {"auto_broadcast": "numpy", "m_pythondiv": False})


# -- reductions -------------------------------------------------------------------------

REDUCE = {"ReduceMean": "ReduceMean", "ReduceSum": "ReduceSum", "ReduceMax": "ReduceMax", "ReduceMin": "ReduceMin",
          "ReduceProd": "ReduceProd", "ReduceL1": "ReduceL1", "ReduceL2": "ReduceL2"}
#: the opset from which each reduction takes axes as an input instead of an attribute
AXES_INPUT_SINCE = {"ReduceSum": 13}


def _reduce_axes(ctx, node) -> str | None:
    """The axes input of the canonical reduction; None means 'leave x unchanged'."""
    x = node.inputs[0]
    if node.opset >= AXES_INPUT_SINCE.get(node.op_type, 18):
        axes = node.input(1)
        data = ctx.const_value(axes) if axes else None
        empty = not axes or (data is not None and data.size == 0)
        if not empty:
            return axes
        if node.attr("noop_with_empty_axes", 0):
            return None
    else:
        listed = node.attr("axes", None)
        if listed:
            return ctx.const(np.array(listed, np.int64), "axes")
    return ctx.axes_from(x, 0)


def _reduce(ctx, node, op_type: str, x: str, output: str) -> str:
    axes = _reduce_axes(ctx, node)
    if axes is None:
        return ctx.emit1("Identity", [x], output, suffix=None if output else "identity")
    return ctx.emit1(op_type, [x, axes], output, {"keep_dims": bool(node.attr("keepdims", 1))},
                     suffix=None if output else op_type)


ALL_AXES = ("ShapeOf", "Squeeze", "Range")


@converter(*REDUCE, emits=tuple(REDUCE.values()) + ("Identity",) + ALL_AXES)
def _reduce_plain(ctx, node):
    node.require_inputs(1)
    _reduce(ctx, node, REDUCE[node.op_type], node.inputs[0], node.outputs[0])


@converter("ReduceSumSquare", emits=("ReduceSum", "Multiply", "Identity") + ALL_AXES)
def _reduce_sum_square(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    square = ctx.emit1("Multiply", [x, x], attrs={"auto_broadcast": "numpy"}, suffix="square")
    _reduce(ctx, node, "ReduceSum", square, node.outputs[0])


@converter("ReduceLogSum", "ReduceLogSumExp", emits=("ReduceSum", "Exp", "Log", "Identity") + ALL_AXES)
def _reduce_log_sum(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    if node.op_type == "ReduceLogSumExp":
        x = ctx.emit1("Exp", [x], suffix="exp")
    total = _reduce(ctx, node, "ReduceSum", x, "")
    ctx.emit("Log", [total], node.outputs[:1])
