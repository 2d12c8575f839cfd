"""Convolution, pooling, fully connected, softmax and top-k ONNX ops."""

from __future__ import annotations

import numpy as np

from gpu_int8.frontends.onnx_ops import converter

AUTO_PAD = {"NOTSET": "explicit", "SAME_UPPER": "same_upper", "SAME_LOWER": "same_lower", "VALID": "valid"}


def _window_attrs(node, spatial: int, dilations: bool = True) -> dict:
    """strides, pads_begin/pads_end, auto_pad (and dilations) in OpenVINO's form."""
    auto_pad = node.attr("auto_pad", "NOTSET")
    if auto_pad not in AUTO_PAD:
        raise ValueError(f"auto_pad '{auto_pad}' is not one of {sorted(AUTO_PAD)}")
    strides = list(node.attr("strides", [1] * spatial))
    pads = list(node.attr("pads", [0] * (2 * spatial)))
    if len(strides) != spatial or len(pads) != 2 * spatial:
        raise ValueError(f"strides {strides} / pads {pads} do not fit {spatial} spatial dimensions")
    if auto_pad != "NOTSET":
        pads = [0] * (2 * spatial)
    attrs = {"strides": strides, "pads_begin": pads[:spatial], "pads_end": pads[spatial:],
             "auto_pad": AUTO_PAD[auto_pad]}
    if dilations:
        attrs["dilations"] = list(node.attr("dilations", [1] * spatial))
        if len(attrs["dilations"]) != spatial:
            raise ValueError(f"dilations {attrs['dilations']} do not fit {spatial} spatial dimensions")
    return attrs


def _spatial_dims(ctx, node, x: str, w: str | None = None) -> int:
    kernel = node.attr("kernel_shape", None)
    if kernel:
        return len(kernel)
    if w is not None and ctx.rank(w) is not None:
        return ctx.rank(w) - 2
    return ctx.need_rank(x, node.op_type) - 2


def _grouped_weights(ctx, w: str, group: int) -> str:
    """Split dimension 0 into groups: [O, I/G, k...] -> [G, O/G, I/G, k...]
    (ConvTranspose: [I, O/G, k...] -> [G, I/G, O/G, k...])."""
    shape = ctx.shape(w)
    if shape is None or any(d is None for d in shape):
        raise ValueError(f"grouped convolution needs the static shape of its weights '{w}'")
    if shape[0] % group:
        raise ValueError(f"weights dimension 0 ({shape[0]}) is not divisible by group={group}")
    target = [group, shape[0] // group, *shape[1:]]
    data = ctx.const_value(w)
    if data is not None:
        return ctx.const(data.reshape(target), "weights")
    if _regroup_dequantized(ctx, w, shape, group):
        return w
    return ctx.emit1("Reshape", [w, ctx.const(np.array(target, np.int64), "weights_shape")],
                     attrs={"special_zero": False}, suffix="weights")


def _regroup_dequantized(ctx, w: str, shape: tuple, group: int) -> bool:
    """Weights dequantized from a constant (Convert -> [Subtract] -> Multiply, NNCF's form): split
    dimension 0 of the constants themselves, so that no Reshape sits between the chain and the
    convolution.  False when ``w`` is not such a chain."""
    graph = ctx.graph
    producers = graph.producers()
    multiply = producers.get(w)
    if multiply is None or multiply.op_type != "Multiply" or len(ctx.onnx_consumers.get(w, [])) != 1:
        return False
    subtract, convert = None, producers.get(multiply.inputs[0])
    if convert is not None and convert.op_type == "Subtract":
        subtract, convert = convert, producers.get(convert.inputs[0])
    if convert is None or convert.op_type != "Convert":
        return False
    slots = [(convert, 0), (multiply, 1)] + ([(subtract, 1)] if subtract is not None else [])
    users = graph.consumers()
    inner = [convert] + ([subtract] if subtract is not None else [])
    if any(len(users.get(n.outputs[0], [])) != 1 for n in inner):  # the chain feeds only this weight
        return False
    regrouped = []
    for node, slot in slots:
        data = ctx.const_value(node.inputs[slot])
        if data is None:
            return False
        if data.size > 1:
            if data.ndim != len(shape) or data.shape[0] not in (1, shape[0]):
                return False
            head = [1, 1] if data.shape[0] == 1 else [group, shape[0] // group]
            data = data.reshape(head + list(data.shape[1:]))
        regrouped.append(data)
    for (node, slot), data in zip(slots, regrouped):
        node.inputs[slot] = ctx.const(data, "grouped_" + ("weights" if node is convert else "dequantization"))
    ctx.type_info[w] = (ctx.dtype(w), (group, shape[0] // group, *shape[1:]))
    return True


def _add_bias(ctx, node, y: str, b: str, spatial: int) -> None:
    """y + b with b [C] reshaped to [1, C, 1...]: the OpenVINO form of a conv bias."""
    target = [1, -1] + [1] * spatial
    data = ctx.const_value(b)
    if data is not None:
        bias = ctx.const(data.reshape(target), "bias")
    else:
        bias = ctx.emit1("Reshape", [b, ctx.const(np.array(target, np.int64), "bias_shape")],
                         attrs={"special_zero": False}, suffix="bias")
    ctx.emit("Add", [y, bias], node.outputs[:1], {"auto_broadcast": "numpy"})


@converter("Conv", emits=("Convolution", "GroupConvolution", "Add", "Reshape"))
def _conv(ctx, node):
    node.require_inputs(2)
    x, w, b = node.input(0), node.input(1), node.input(2)
    spatial = _spatial_dims(ctx, node, x, w)
    attrs = _window_attrs(node, spatial)
    group = int(node.attr("group", 1))
    out = "" if b else node.outputs[0]
    if group == 1:
        y = ctx.emit1("Convolution", [x, w], out, attrs, suffix=None if out else "conv")
    else:
        y = ctx.emit1("GroupConvolution", [x, _grouped_weights(ctx, w, group)], out, attrs,
                      suffix=None if out else "conv")
    if b:
        _add_bias(ctx, node, y, b, spatial)


@converter("ConvTranspose", emits=("ConvolutionBackpropData", "GroupConvolutionBackpropData", "Add", "Reshape",
                                   "ShapeOf", "Slice", "Multiply"))
def _conv_transpose(ctx, node):
    node.require_inputs(2)
    x, w, b = node.input(0), node.input(1), node.input(2)
    spatial = _spatial_dims(ctx, node, x, w)
    attrs = _window_attrs(node, spatial)
    output_padding = list(node.attr("output_padding", [0] * spatial))
    if len(output_padding) != spatial:
        raise ValueError(f"output_padding {output_padding} does not fit {spatial} spatial dimensions")
    attrs["output_padding"] = output_padding
    group = int(node.attr("group", 1))
    inputs = [x, w if group == 1 else _grouped_weights(ctx, w, group)]
    output_shape = node.attr("output_shape", None)
    if output_shape is not None:
        _transpose_pads_for_output_shape(ctx, node, x, w, attrs, list(output_shape)[-spatial:], spatial, inputs)
    elif node.attr("auto_pad", "NOTSET") in ("SAME_UPPER", "SAME_LOWER"):
        # ONNX: the output is input * stride; OpenVINO pads 'same' only toward a given output_shape
        _transpose_pads_for_output_shape(ctx, node, x, w, attrs, None, spatial, inputs)
    op_type = "ConvolutionBackpropData" if group == 1 else "GroupConvolutionBackpropData"
    out = "" if b else node.outputs[0]
    y = ctx.emit1(op_type, inputs, out, attrs, suffix=None if out else "deconv")
    if b:
        _add_bias(ctx, node, y, b, spatial)


def _transpose_pads_for_output_shape(ctx, node, x, w, attrs, output_shape, spatial, inputs) -> None:
    """ONNX derives the pads from the output shape (given, or input * stride for SAME_*):
    compute them now when the sizes are known, else hand OpenVINO an output_shape input."""
    x_shape, w_shape = ctx.shape(x), ctx.shape(w)
    auto_pad = node.attr("auto_pad", "NOTSET")
    known = x_shape is not None and w_shape is not None and all(
        isinstance(d, int) for d in list(x_shape[2:]) + list(w_shape[2:]))
    if not known:
        # same_upper puts the odd pad at the end, as ONNX does for SAME_UPPER
        attrs["auto_pad"] = "same_upper" if auto_pad == "SAME_UPPER" else "same_lower"
        if output_shape is not None:
            inputs.append(ctx.const(np.array(output_shape, np.int64), "output_shape"))
        else:
            dims = ctx.emit1("ShapeOf", [x], attrs={"output_type": "i64"}, suffix="shape")
            dims = ctx.emit1("Slice", [dims, ctx.const(np.array([2], np.int64), "start"),
                                       ctx.const(np.array([2 + spatial], np.int64), "stop"),
                                       ctx.const(np.array([1], np.int64), "step")], attrs={"opset": 8},
                             suffix="spatial")
            inputs.append(ctx.emit1("Multiply", [dims, ctx.const(np.array(attrs["strides"], np.int64), "strides")],
                                    attrs={"auto_broadcast": "numpy"}, suffix="output_shape"))
        return
    if output_shape is None:
        output_shape = [x_shape[2 + i] * attrs["strides"][i] for i in range(spatial)]
    begins, ends = [], []
    for i in range(spatial):
        full = (attrs["strides"][i] * (x_shape[2 + i] - 1) + attrs["output_padding"][i]
                + (w_shape[2 + i] - 1) * attrs["dilations"][i] + 1)
        total = full - output_shape[i]
        begin = total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
        end = total - begin
        if end < 0:  # a larger output than the stride gives: extra rows/cols at the end
            attrs["output_padding"][i] -= end
            end = 0
        if begin < 0:
            raise ValueError(f"output_shape {output_shape} needs negative leading padding")
        begins.append(begin)
        ends.append(end)
    attrs.update(pads_begin=begins, pads_end=ends, auto_pad="explicit")


@converter("MaxPool", emits=("MaxPool",))
def _max_pool(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    kernel = list(node.attr("kernel_shape"))
    attrs = _window_attrs(node, len(kernel))
    ceil = bool(node.attr("ceil_mode", 0))
    # ONNX's ceil mode drops a last window that would start in the end padding: OpenVINO's ceil_torch
    attrs.update(kernel=kernel, rounding_type="ceil_torch" if ceil else "floor")
    with_indices = node.output_used(1)
    if with_indices and node.attr("storage_order", 0):
        raise ValueError("MaxPool indices in column-major storage_order are not supported")
    if with_indices or ceil or any(d != 1 for d in attrs["dilations"]):
        attrs.update(opset=14 if ceil else 8, index_element_type="i64", axis=0)
        ctx.emit("MaxPool", [x], [node.outputs[0], node.outputs[1] if with_indices else ""], attrs)
    else:
        del attrs["dilations"]
        attrs["opset"] = 1
        ctx.emit("MaxPool", [x], node.outputs[:1], attrs)


@converter("AveragePool", emits=("AvgPool",))
def _avg_pool(ctx, node):
    node.require_inputs(1)
    kernel = list(node.attr("kernel_shape"))
    attrs = _window_attrs(node, len(kernel))
    if any(d != 1 for d in attrs.pop("dilations")):
        raise ValueError("AveragePool with dilations is not supported")
    ceil = bool(node.attr("ceil_mode", 0))
    attrs.update(kernel=kernel, rounding_type="ceil_torch" if ceil else "floor", opset=14 if ceil else 1)
    attrs["exclude-pad"] = not node.attr("count_include_pad", 0)
    ctx.emit("AvgPool", [node.inputs[0]], node.outputs[:1], attrs)


@converter("GlobalAveragePool", "GlobalMaxPool", emits=("ReduceMean", "ReduceMax", "ShapeOf", "Squeeze", "Range"))
def _global_pool(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    axes = ctx.axes_from(x, 2)
    op_type = "ReduceMean" if node.op_type == "GlobalAveragePool" else "ReduceMax"
    ctx.emit(op_type, [x, axes], node.outputs[:1], {"keep_dims": True})


@converter("MatMul", emits=("MatMul",))
def _matmul(ctx, node):
    node.require_inputs(2)
    ctx.emit("MatMul", node.inputs[:2], node.outputs[:1], {"transpose_a": False, "transpose_b": False})


@converter("Gemm", emits=("MatMul", "Multiply", "Add"))
def _gemm(ctx, node):
    node.require_inputs(2)
    a, b, c = node.input(0), node.input(1), node.input(2)
    alpha, beta = float(node.attr("alpha", 1.0)), float(node.attr("beta", 1.0))
    attrs = {"transpose_a": bool(node.attr("transA", 0)), "transpose_b": bool(node.attr("transB", 0))}
    b_data = ctx.const_value(b)
    if alpha != 1.0 and b_data is not None and np.issubdtype(b_data.dtype, np.floating):
        b, alpha = ctx.const((b_data * alpha).astype(b_data.dtype), "weights"), 1.0  # fold alpha into B
    steps = (alpha != 1.0) + bool(c)
    y = ctx.emit1("MatMul", [a, b], "" if steps else node.outputs[0], attrs, suffix="matmul" if steps else None)
    if alpha != 1.0:
        steps -= 1
        y = ctx.emit1("Multiply", [y, _scalar_like(ctx, alpha, a)], "" if steps else node.outputs[0],
                      {"auto_broadcast": "numpy"}, suffix="alpha" if steps else None)
    if c:
        c_data = ctx.const_value(c)
        if beta != 1.0:
            if c_data is not None:
                c = ctx.const((c_data * beta).astype(c_data.dtype), "bias")
            else:
                c = ctx.emit1("Multiply", [c, _scalar_like(ctx, beta, a)], attrs={"auto_broadcast": "numpy"},
                              suffix="beta")
        ctx.emit("Add", [y, c], node.outputs[:1], {"auto_broadcast": "numpy"})


def _scalar_like(ctx, value: float, like: str) -> str:
    return ctx.const(np.array(value, dtype=ctx.dtype(like, np.float32)), "scale")


# -- softmax family -----------------------------------------------------------------

@converter("Softmax", "LogSoftmax", emits=("Softmax", "LogSoftmax", "Reshape", "ShapeOf", "Slice",
                                           "ReduceProd", "Concat"))
def _softmax(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    op_type = node.op_type
    if node.opset >= 13:
        ctx.emit(op_type, [x], node.outputs[:1], {"axis": int(node.attr("axis", -1)), "opset": 8})
        return
    # before opset 13 the input is coerced to 2-D at `axis` and normalized along the second dimension
    axis = int(node.attr("axis", 1))
    rank = ctx.rank(x)
    if rank is not None and axis < 0:
        axis += rank
    if rank is not None and axis == rank - 1:
        ctx.emit(op_type, [x], node.outputs[:1], {"axis": -1, "opset": 8})
        return
    flat = flatten_2d(ctx, x, axis, rank)
    y = ctx.emit1(op_type, [flat], attrs={"axis": 1, "opset": 8}, suffix=op_type.lower())
    shape = ctx.emit1("ShapeOf", [x], attrs={"output_type": "i64"}, suffix="shape")
    ctx.emit("Reshape", [y, shape], node.outputs[:1], {"special_zero": False})


def flatten_2d(ctx, x: str, axis: int, rank: int | None, output: str = "") -> str:
    """Reshape x to [prod(dims[:axis]), prod(dims[axis:])] (ONNX Flatten); axis is non-negative."""
    shape = ctx.shape(x)
    head = None if shape is None else shape[:axis]
    tail = None if shape is None else shape[axis:]
    if axis == 0:
        target = [1, -1]
    elif axis == 1:
        target = [0, -1]
    elif head is not None and all(isinstance(d, int) for d in head):
        target = [int(np.prod(head)), -1]
    elif tail is not None and all(isinstance(d, int) for d in tail):
        target = [-1, int(np.prod(tail))]
    else:
        dims = ctx.emit1("ShapeOf", [x], attrs={"output_type": "i64"}, suffix="shape")
        head_dims = ctx.emit1("Slice", [dims, ctx.const(np.array([0], np.int64), "start"),
                                        ctx.const(np.array([axis], np.int64), "stop"),
                                        ctx.const(np.array([1], np.int64), "step")], suffix="head")
        rows = ctx.emit1("ReduceProd", [head_dims, ctx.const(np.array([0], np.int64), "axes")],
                         attrs={"keep_dims": True}, suffix="rows")
        target_name = ctx.emit1("Concat", [rows, ctx.const(np.array([-1], np.int64), "cols")],
                                attrs={"axis": 0}, suffix="flat_shape")
        return ctx.emit1("Reshape", [x, target_name], output, {"special_zero": False},
                         suffix=None if output else "flatten")
    return ctx.emit1("Reshape", [x, ctx.const(np.array(target, np.int64), "flat_shape")], output,
                     {"special_zero": True}, suffix=None if output else "flatten")


# -- top-k and arg-max ------------------------------------------------------------------

@converter("TopK", emits=("TopK", "Squeeze"))
def _topk(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    if node.opset < 10:
        k = ctx.const(np.array(int(node.attr("k")), np.int64), "k")
    else:
        node.require_inputs(2)
        data = ctx.const_value(node.inputs[1])
        if data is not None:
            k = ctx.const(np.array(int(data.reshape(-1)[0]), np.int64), "k")
        else:
            k = ctx.emit1("Squeeze", [node.inputs[1]], suffix="k")
    attrs = {"axis": int(node.attr("axis", -1)), "mode": "max" if node.attr("largest", 1) else "min",
             "sort": "value", "index_element_type": "i64", "stable": True, "opset": 11}
    ctx.emit("TopK", [x, k], [node.outputs[0] if node.output_used(0) else "",
                              node.outputs[1] if node.output_used(1) else ""], attrs)


@converter("ArgMax", "ArgMin", emits=("TopK", "Squeeze", "Slice", "ShapeOf", "Gather", "Subtract"))
def _argmax(ctx, node):
    node.require_inputs(1)
    x = node.inputs[0]
    axis = int(node.attr("axis", 0))
    keep = bool(node.attr("keepdims", 1))
    last = bool(node.attr("select_last_index", 0))
    attrs = {"axis": axis, "mode": "max" if node.op_type == "ArgMax" else "min", "sort": "none",
             "index_element_type": "i64", "stable": True, "opset": 11}
    axes = ctx.const(np.array([axis], np.int64), "axes")
    if last:  # the first extreme of the reversed axis is the last one
        x = ctx.emit1("Slice", [x, ctx.const(np.array([-1], np.int64), "start"),
                                ctx.const(np.array([np.iinfo(np.int64).min], np.int64), "stop"),
                                ctx.const(np.array([-1], np.int64), "step"), axes], attrs={"opset": 8},
                      suffix="reverse")
    k = ctx.const(np.array(1, np.int64), "k")
    direct = keep and not last
    _, indices = ctx.emit("TopK", [x, k], ["", node.outputs[0] if direct else ""], attrs,
                          suffix=None if direct else "topk")
    if last:
        dims = ctx.emit1("ShapeOf", [x], attrs={"output_type": "i64"}, suffix="shape")
        size = ctx.emit1("Gather", [dims, ctx.const(np.array(axis, np.int64), "axis_index"),
                                    ctx.const(np.array(0, np.int64), "gather_axis")],
                         attrs={"batch_dims": 0, "opset": 8}, suffix="size")
        top = ctx.emit1("Subtract", [size, ctx.const(np.array(1, np.int64), "one")],
                        attrs={"auto_broadcast": "numpy"}, suffix="last")
        indices = ctx.emit1("Subtract", [top, indices], node.outputs[0] if keep else "",
                            {"auto_broadcast": "numpy"}, suffix=None if keep else "flip_index")
    if not keep:
        ctx.emit("Squeeze", [indices, axes], node.outputs[:1])


@converter("LRN", emits=("LRN",))
def _lrn(ctx, node):
    node.require_inputs(1)
    attrs = {"alpha": float(node.attr("alpha", 1e-4)), "beta": float(node.attr("beta", 0.75)),
             "bias": float(node.attr("bias", 1.0)), "size": int(node.attr("size"))}
    axes = ctx.const(np.array([1], np.int64), "axes")  # ONNX LRN runs across channels
    ctx.emit("LRN", [node.inputs[0], axes], node.outputs[:1], attrs)
