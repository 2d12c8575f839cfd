"""Shape and data-movement ONNX ops, constants and pass-through ops."""

from __future__ import annotations

import numpy as np

from gpu_int8.frontends.onnx_ops import converter
from gpu_int8.frontends.onnx_ops.context import ov_type
from gpu_int8.frontends.onnx_ops.nn import flatten_2d

INT64_MAX = np.iinfo(np.int64).max
#: ConstantOfShape results above this many elements are kept as broadcast views
LARGE_CONSTANT = 1 << 20


def _ints(ctx, values, base: str) -> str:
    return ctx.const(np.array(list(values), np.int64).reshape(-1), base)


def _axes_from_attr_or_input(ctx, node, since: int, required: bool) -> str:
    """The axes as a value name ("" when absent): an attribute before ``since``, an input after."""
    if node.opset < since:
        axes = node.attr("axes", None) if not required else node.attr("axes")
        return _ints(ctx, axes, "axes") if axes is not None else ""
    axes = node.input(1)
    if required and not axes:
        raise ValueError(f"{node.op_type} needs its axes input")
    return axes


@converter("Constant", emits=())
def _constant(ctx, node):
    for key in ("value", "value_float", "value_floats", "value_int", "value_ints"):
        if node.has_attr(key):
            value = node.attr(key)
            break
    else:
        raise ValueError("Constant has no supported value attribute (value, value_float(s), value_int(s))")
    if key.startswith("value_float"):
        value = np.array(value, np.float32)
    elif key.startswith("value_int"):
        value = np.array(value, np.int64)
    ctx.graph.add_const(node.outputs[0], np.asarray(value))


@converter("Identity", emits=())
def _identity(ctx, node):
    node.require_inputs(1)
    ctx.alias(node.outputs[0], node.inputs[0])


@converter("Dropout", emits=("ShapeOf", "Broadcast"))
def _dropout(ctx, node):
    node.require_inputs(1)
    training = ctx.const_value(node.input(2)) if node.opset >= 12 and node.input(2) else None
    if node.input(2) and (training is None or bool(np.asarray(training).reshape(-1)[0])):
        raise ValueError("Dropout in training mode is not supported")
    x = node.inputs[0]
    ctx.alias(node.outputs[0], x)
    if node.output_used(1):  # the mask keeps every element at inference
        shape = ctx.emit1("ShapeOf", [x], attrs={"output_type": "i64"}, suffix="shape")
        ctx.emit("Broadcast", [ctx.const(np.array(True), "true"), shape], node.outputs[1:2], {"mode": "numpy"})


@converter("Reshape", emits=("Reshape",))
def _reshape(ctx, node):
    node.require_inputs(1)
    shape = _ints(ctx, node.attr("shape"), "shape") if node.opset < 5 else node.input(1)
    if not shape:
        raise ValueError("Reshape needs a shape input")
    ctx.emit("Reshape", [node.inputs[0], shape], node.outputs[:1],
             {"special_zero": not node.attr("allowzero", 0)})


@converter("Flatten", emits=("Reshape", "ShapeOf", "Slice", "ReduceProd", "Concat"))
def _flatten(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    axis = int(node.attr("axis", 1))
    rank = ctx.rank(x)
    if axis < 0:
        axis += ctx.need_rank(x, "Flatten with a negative axis")
    flatten_2d(ctx, x, axis, rank, node.outputs[0])


@converter("Squeeze", emits=("Squeeze",))
def _squeeze(ctx, node):
    node.require_inputs(1)
    axes = _axes_from_attr_or_input(ctx, node, 13, required=False)
    ctx.emit("Squeeze", [node.inputs[0]] + ([axes] if axes else []), node.outputs[:1])


@converter("Unsqueeze", emits=("Unsqueeze",))
def _unsqueeze(ctx, node):
    node.require_inputs(1)
    axes = _axes_from_attr_or_input(ctx, node, 13, required=True)
    ctx.emit("Unsqueeze", [node.inputs[0], axes], node.outputs[:1])


@converter("Slice", emits=("Slice", "ShapeOf", "Broadcast"))
def _slice(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    if node.opset < 10:
        starts, ends = node.attr("starts"), node.attr("ends")
        start, stop = _ints(ctx, starts, "start"), _ints(ctx, ends, "stop")
        axes = _ints(ctx, node.attr("axes"), "axes") if node.has_attr("axes") else ""
        step = _ints(ctx, [1] * len(starts), "step")
    else:
        node.require_inputs(3)
        start, stop, axes, step = node.input(1), node.input(2), node.input(3), node.input(4)
        if not step:
            data = ctx.const_value(start)
            if data is not None:
                step = ctx.const(np.ones(data.shape, data.dtype), "step")
            else:
                shape = ctx.emit1("ShapeOf", [start], attrs={"output_type": "i64"}, suffix="start_shape")
                step = ctx.emit1("Broadcast", [ctx.const(np.array(1, np.int64), "one"), shape],
                                 attrs={"mode": "numpy"}, suffix="step")
    ctx.emit("Slice", [x, start, stop, step] + ([axes] if axes else []), node.outputs[:1], {"opset": 8})


PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge"}


@converter("Pad", emits=("Pad", "Split", "Slice", "Concat"))
def _pad(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    mode = node.attr("mode", "constant")
    if mode not in PAD_MODES:
        raise ValueError(f"Pad mode '{mode}' is not supported")
    pad_value = ""
    if node.opset < 11:
        pads = node.attr("pads" if node.opset >= 2 else "paddings")
        value = float(node.attr("value", 0.0))
        if value != 0.0:
            pad_value = ctx.const(np.array(value, ctx.dtype(x, np.float32)), "pad_value")
        pads_name = ""
    else:
        node.require_inputs(2)
        pads_name = node.input(1)
        pads = ctx.const_value(pads_name)
        value_name = node.input(2)
        value_data = ctx.const_value(value_name) if value_name else None
        if value_name and not (value_data is not None and value_data.size == 0):
            pad_value = value_name
        if node.input(3):
            pads, pads_name = _pads_over_axes(ctx, node, x, pads, pads_name)
    if pads is not None:
        pads = [int(p) for p in np.asarray(pads).reshape(-1)]
        if len(pads) % 2:
            raise ValueError(f"pads {pads} must hold a begin and an end for every axis")
        half = len(pads) // 2
        begin, end = _ints(ctx, pads[:half], "pads_begin"), _ints(ctx, pads[half:], "pads_end")
    else:
        axis = ctx.const(np.array(0, np.int64), "axis")
        begin, end = ctx.emit("Split", [pads_name, axis], 2, {"num_splits": 2}, suffix="pads")
    inputs = [x, begin, end] + ([pad_value] if pad_value else [])
    ctx.emit("Pad", inputs, node.outputs[:1], {"pad_mode": PAD_MODES[mode], "opset": 12})


def _pads_over_axes(ctx, node, x, pads, pads_name):
    """Opset 18 pads listed for some axes only: expand them to every axis.

    Returns (constant pads, None) or (None, name of computed pads)."""
    axes = ctx.const_value(node.input(3))
    if axes is None:
        raise ValueError("Pad needs constant axes")
    rank = ctx.need_rank(x, "Pad with axes")
    axes = [int(a) + rank if a < 0 else int(a) for a in np.asarray(axes).reshape(-1)]
    count = len(axes)
    if pads is not None:
        pads = np.asarray(pads).reshape(-1)
        full = np.zeros(2 * rank, np.int64)
        for i, axis in enumerate(axes):
            full[axis], full[rank + axis] = pads[i], pads[count + i]
        return full, ""
    # computed pads: gather each axis's entry, zeros elsewhere
    zero = ctx.const(np.zeros(1, np.int64), "zero_pad")
    pieces = []
    for offset in (0, count):
        for dim in range(rank):
            if dim in axes:
                j = offset + axes.index(dim)
                pieces.append(ctx.emit1("Slice", [pads_name, _ints(ctx, [j], "start"), _ints(ctx, [j + 1], "stop"),
                                                  _ints(ctx, [1], "step")], attrs={"opset": 8}, suffix="pad_entry"))
            else:
                pieces.append(zero)
    return None, ctx.emit1("Concat", pieces, attrs={"axis": 0}, suffix="full_pads")


@converter("Split", emits=("Split", "VariadicSplit"))
def _split(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    axis_value = int(node.attr("axis", 0))
    axis = ctx.const(np.array(axis_value, np.int64), "axis")
    count = len(node.outputs)
    if node.opset < 13:
        lengths = node.attr("split", None)
        lengths = _ints(ctx, lengths, "split_lengths") if lengths else ""
    else:
        lengths = node.input(1)
    if not lengths and node.has_attr("num_outputs"):
        count = int(node.attr("num_outputs"))
        shape = ctx.shape(x)
        dim = None if shape is None else shape[axis_value]
        if isinstance(dim, int) and dim % count:
            chunk = -(-dim // count)  # ONNX: the last chunk is the smaller one
            lengths = _ints(ctx, [chunk] * (count - 1) + [dim - chunk * (count - 1)], "split_lengths")
    outputs = [o for o in node.outputs] + [""] * (count - len(node.outputs))
    if lengths:
        ctx.emit("VariadicSplit", [x, axis, lengths], outputs)
    else:
        ctx.emit("Split", [x, axis], outputs, {"num_splits": count})


@converter("Concat", emits=("Concat",))
def _concat(ctx, node):
    inputs = [n for n in node.inputs if n]
    if not inputs:
        raise ValueError("Concat needs at least one input")
    ctx.emit("Concat", inputs, node.outputs[:1], {"axis": int(node.attr("axis", 1))})


@converter("Transpose", emits=("Transpose",))
def _transpose(ctx, node):
    node.require_inputs(1)
    perm = node.attr("perm", [])  # empty order reverses the axes, as ONNX's default does
    ctx.emit("Transpose", [node.inputs[0], _ints(ctx, perm, "order")], node.outputs[:1])


@converter("Gather", emits=("Gather",))
def _gather(ctx, node):
    node.require_inputs(2)
    axis = ctx.const(np.array(int(node.attr("axis", 0)), np.int64), "axis")
    ctx.emit("Gather", [*node.inputs[:2], axis], node.outputs[:1], {"batch_dims": 0, "opset": 8})


@converter("GatherElements", emits=("GatherElements",))
def _gather_elements(ctx, node):
    node.require_inputs(2)
    ctx.emit("GatherElements", node.inputs[:2], node.outputs[:1], {"axis": int(node.attr("axis", 0))})


@converter("GatherND", emits=("GatherND",))
def _gather_nd(ctx, node):
    node.require_inputs(2)
    ctx.emit("GatherND", node.inputs[:2], node.outputs[:1], {"batch_dims": int(node.attr("batch_dims", 0)),
                                                              "opset": 8})


SCATTER_REDUCTIONS = {"none": "none", "add": "sum", "mul": "prod", "min": "min", "max": "max"}


@converter("ScatterElements", emits=("ScatterElementsUpdate",))
def _scatter_elements(ctx, node):
    node.require_inputs(3)
    reduction = node.attr("reduction", "none")
    if reduction not in SCATTER_REDUCTIONS:
        raise ValueError(f"ScatterElements reduction '{reduction}' is not supported")
    axis = ctx.const(np.array(int(node.attr("axis", 0)), np.int64), "axis")
    ctx.emit("ScatterElementsUpdate", [*node.inputs[:3], axis], node.outputs[:1],
             {"reduction": SCATTER_REDUCTIONS[reduction], "use_init_val": True, "opset": 12})


@converter("ScatterND", emits=("ScatterNDUpdate",))
def _scatter_nd(ctx, node):
    node.require_inputs(3)
    if node.attr("reduction", "none") != "none":
        raise ValueError("ScatterND with a reduction is not supported")
    ctx.emit("ScatterNDUpdate", node.inputs[:3], node.outputs[:1])


@converter("Shape", emits=("ShapeOf", "Slice"))
def _shape(ctx, node):
    node.require_inputs(1)
    start, end = int(node.attr("start", 0)), node.attr("end", None)
    if start == 0 and end is None:
        ctx.emit("ShapeOf", [node.inputs[0]], node.outputs[:1], {"output_type": "i64"})
        return
    shape = ctx.emit1("ShapeOf", [node.inputs[0]], attrs={"output_type": "i64"}, suffix="shape")
    stop = INT64_MAX if end is None else int(end)
    ctx.emit("Slice", [shape, _ints(ctx, [start], "start"), _ints(ctx, [stop], "stop"), _ints(ctx, [1], "step")],
             node.outputs[:1], {"opset": 8})


@converter("Size", emits=("ShapeOf", "ReduceProd"))
def _size(ctx, node):
    node.require_inputs(1)
    shape = ctx.emit1("ShapeOf", [node.inputs[0]], attrs={"output_type": "i64"}, suffix="shape")
    ctx.emit("ReduceProd", [shape, _ints(ctx, [0], "axes")], node.outputs[:1], {"keep_dims": False})


@converter("ConstantOfShape", emits=("Broadcast",))
def _constant_of_shape(ctx, node):
    node.require_inputs(1)
    value = node.attr("value", np.zeros(1, np.float32)).reshape(-1)
    if value.size != 1:
        raise ValueError("ConstantOfShape's value must hold exactly one element")
    scalar = value.reshape(())
    shape = ctx.const_value(node.inputs[0])
    if shape is not None:
        dims = [int(d) for d in np.asarray(shape).reshape(-1)]
        if any(d < 0 for d in dims):
            raise ValueError(f"ConstantOfShape got a negative dimension in {dims}")
        size = int(np.prod(dims, dtype=np.int64))
        # large all-equal tensors (placeholder weights) stay a read-only broadcast view: no memory
        data = np.full(dims, scalar) if size <= LARGE_CONSTANT else np.broadcast_to(scalar, dims)
        ctx.graph.add_const(node.outputs[0], data)
        return
    ctx.emit("Broadcast", [ctx.const(scalar, "value"), node.inputs[0]], node.outputs[:1], {"mode": "numpy"})


@converter("Range", emits=("Range",))
def _range(ctx, node):
    node.require_inputs(3)
    dtype = ctx.dtype(node.inputs[0], np.float32)
    ctx.emit("Range", node.inputs[:3], node.outputs[:1], {"output_type": ov_type(dtype), "opset": 4})


@converter("Expand", emits=("Broadcast",))
def _expand(ctx, node):
    node.require_inputs(2)
    ctx.emit("Broadcast", node.inputs[:2], node.outputs[:1], {"mode": "bidirectional"})


@converter("Tile", emits=("Tile",))
def _tile(ctx, node):
    node.require_inputs(2)
    ctx.emit("Tile", node.inputs[:2], node.outputs[:1])


@converter("DepthToSpace", emits=("DepthToSpace",))
def _depth_to_space(ctx, node):
    node.require_inputs(1)
    mode = node.attr("mode", "DCR")
    if mode not in ("DCR", "CRD"):
        raise ValueError(f"DepthToSpace mode '{mode}' is not one of DCR, CRD")
    ctx.emit("DepthToSpace", [node.inputs[0]], node.outputs[:1],
             {"mode": "blocks_first" if mode == "DCR" else "depth_first", "block_size": int(node.attr("blocksize"))})


@converter("SpaceToDepth", emits=("SpaceToDepth",))
def _space_to_depth(ctx, node):
    node.require_inputs(1)
    mode = node.attr("mode", "DCR")
    if mode not in ("DCR", "CRD"):
        raise ValueError(f"SpaceToDepth mode '{mode}' is not one of DCR, CRD")
    ctx.emit("SpaceToDepth", [node.inputs[0]], node.outputs[:1],
             {"mode": "blocks_first" if mode == "DCR" else "depth_first", "block_size": int(node.attr("blocksize"))})
