"""ONNX reader: an ONNX model (float or QDQ) -> Graph of canonical (OpenVINO-semantics) ops.

The ``onnx`` package parses the file; each node is mapped by a converter in
:mod:`gpu_int8.frontends.onnx_ops`.  Graph inputs are the ONNX inputs that are
not initializers; dynamic dimensions become None (fixed later by
``set_input_shapes``).  Initializers and Constant nodes become graph constants.
Every problem is a ModelError naming the file and the node.
"""

from __future__ import annotations

import os
from collections import deque

import numpy as np
import onnx
from onnx import ModelProto, TensorProto

from gpu_int8.errors import ModelError, UnsupportedOpError
from gpu_int8.frontends.fold_batchnorm import fold_batchnorm
from gpu_int8.frontends.onnx_ops import CONVERTERS, supported_onnx_ops
from gpu_int8.frontends.onnx_ops.context import ConvertContext, NodeView, onnx_dtype, tensor_to_array
from gpu_int8.graph import Graph

__all__ = ["read_onnx", "supported_onnx_ops"]

DEFAULT_DOMAINS = ("", "ai.onnx")


def read_onnx(model: str | os.PathLike | ModelProto) -> Graph:
    """Read an ONNX model (a file path or a ModelProto) into a Graph.

    External tensor data is read only from files inside the model's folder,
    with offsets and lengths checked against the file.
    """
    proto, source, base_dir = _load(model)
    graph_proto = proto.graph
    opset = _default_opset(proto, source)
    if proto.functions:
        try:
            proto = onnx.inliner.inline_local_functions(proto)
            graph_proto = proto.graph
        except Exception as exc:
            raise ModelError(f"cannot inline the model's local functions: {exc}", file=source) from None
    type_info = _type_info(proto)

    graph = Graph(graph_proto.name or "onnx_graph", source=source)
    initializers = {t.name for t in graph_proto.initializer}
    reserved = initializers | {i.name for i in graph_proto.input} | {o for n in graph_proto.node for o in n.output}
    ctx = ConvertContext(graph, opset, type_info, reserved)
    ctx.onnx_outputs = {o.name for o in graph_proto.output}

    for tensor in graph_proto.initializer:
        _add_initializer(graph, tensor, base_dir, source)
    if len(graph_proto.sparse_initializer):
        raise ModelError("sparse initializers are not supported", file=source)
    for value_info in graph_proto.input:
        if value_info.name not in initializers:  # IR v3 files list initializers as inputs too
            _add_input(graph, value_info, source)

    nodes = _toposort(graph_proto, source)
    for node in nodes:
        for name in node.input:
            if name:
                ctx.onnx_consumers.setdefault(name, []).append(node)
    for index, node in enumerate(nodes):
        if id(node) not in ctx.skip:
            _convert_node(ctx, node, index, base_dir, source)

    _set_outputs(ctx, graph_proto, source)
    fold_batchnorm(graph)
    graph.check()
    return graph


# -- loading -------------------------------------------------------------------------

def _load(model) -> tuple[ModelProto, str, str | None]:
    if isinstance(model, ModelProto):
        name = model.graph.name or "model"
        return model, f"<ONNX model '{name}'>", None
    path = os.fspath(model)
    if not os.path.isfile(path):
        raise ModelError("no such file", file=path)
    try:
        proto = onnx.load(path, load_external_data=False)
    except Exception as exc:  # DecodeError, truncated or not an ONNX file at all
        raise ModelError(f"not a readable ONNX file ({type(exc).__name__}: {exc})", file=path) from None
    if not proto.HasField("graph") or (not proto.graph.node and not proto.graph.output):
        raise ModelError("not an ONNX model: it holds no graph", file=path)
    return proto, path, os.path.dirname(os.path.abspath(path))


def _default_opset(proto: ModelProto, source: str) -> int:
    for entry in proto.opset_import:
        if entry.domain in DEFAULT_DOMAINS:
            return int(entry.version)
    if not proto.opset_import and proto.ir_version < 3:
        return 1
    raise ModelError("the model imports no version of the default ONNX opset", file=source)


def _type_info(proto: ModelProto) -> dict[str, tuple]:
    """name -> (dtype or None, shape with None for dynamic dims, or None): ONNX's own shape inference."""
    if proto.ir_version < 4:  # IR v3 types only the initializers listed as inputs; infer as v4
        copy = ModelProto()
        copy.CopyFrom(proto)
        copy.ir_version = 4
        proto = copy
    try:
        inferred = onnx.shape_inference.infer_shapes(proto, check_type=False, strict_mode=False, data_prop=True)
    except Exception:  # a model ONNX cannot infer still converts, with less information
        inferred = proto
    info: dict[str, tuple] = {}
    g = inferred.graph
    for value_info in list(g.value_info) + list(g.input) + list(g.output):
        parsed = _parse_value_info(value_info)
        if parsed is not None:
            info[value_info.name] = parsed
    for tensor in g.initializer:
        try:
            info[tensor.name] = (onnx_dtype(tensor.data_type), tuple(int(d) for d in tensor.dims))
        except ValueError:
            pass
    return info


def _parse_value_info(value_info) -> tuple | None:
    if not value_info.type.HasField("tensor_type"):
        return None
    tensor_type = value_info.type.tensor_type
    try:
        dtype = onnx_dtype(tensor_type.elem_type) if tensor_type.elem_type else None
    except ValueError:
        dtype = None
    shape = None
    if tensor_type.HasField("shape"):
        shape = tuple(int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else None
                      for d in tensor_type.shape.dim)
    return dtype, shape


def _add_input(graph: Graph, value_info, source: str) -> None:
    name = value_info.name
    if not value_info.type.HasField("tensor_type"):
        raise ModelError(f"graph input '{name}' is not a tensor (sequences, maps, optionals are not supported)",
                         file=source)
    elem_type = value_info.type.tensor_type.elem_type
    if not elem_type:
        raise ModelError(f"graph input '{name}' has no element type", file=source)
    try:
        dtype = onnx_dtype(elem_type)
    except ValueError as exc:
        raise ModelError(f"graph input '{name}': {exc}", file=source) from None
    _, shape = _parse_value_info(value_info)
    graph.add_input(name, shape, dtype)


def _add_initializer(graph: Graph, tensor: TensorProto, base_dir: str | None, source: str) -> None:
    try:
        if tensor.data_location == TensorProto.EXTERNAL:
            _load_external(tensor, base_dir)
        data = tensor_to_array(tensor)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"initializer '{tensor.name}': {exc}", file=source) from None
    graph.add_const(tensor.name, data)


def _load_external(tensor: TensorProto, base_dir: str | None) -> None:
    """Read a tensor's external data into it: only from inside the model's folder, bounds checked."""
    info = {entry.key: entry.value for entry in tensor.external_data}
    location = info.get("location", "")
    if base_dir is None:
        raise ValueError("its data is in an external file, but the model was not read from a file")
    if not location or os.path.isabs(location):
        raise ValueError(f"external data location '{location}' must be a path relative to the model")
    folder = os.path.realpath(base_dir)
    path = os.path.realpath(os.path.join(folder, location))
    if os.path.commonpath([folder, path]) != folder:
        raise ValueError(f"external data file '{location}' lies outside the model's folder")
    if not os.path.isfile(path):
        raise ValueError(f"external data file '{location}' does not exist")
    itemsize = onnx_dtype(tensor.data_type).itemsize
    if any(d < 0 for d in tensor.dims):
        raise ValueError(f"negative dimension in {list(tensor.dims)}")
    expected = int(np.prod(tensor.dims, dtype=np.int64)) * itemsize
    file_size = os.path.getsize(path)
    try:
        offset = int(info.get("offset", 0))
        length = int(info["length"]) if "length" in info else expected
    except ValueError:
        raise ValueError("external data offset/length are not integers") from None
    if offset < 0 or length < 0 or offset + length > file_size:
        raise ValueError(f"external data [{offset}, {offset + length}) runs past the end of '{location}' "
                         f"({file_size} bytes)")
    if length != expected:
        raise ValueError(f"external data holds {length} bytes, shape {list(tensor.dims)} needs {expected}")
    with open(path, "rb") as f:
        f.seek(offset)
        tensor.raw_data = f.read(length)
    del tensor.external_data[:]
    tensor.data_location = TensorProto.DEFAULT


# -- conversion ----------------------------------------------------------------------

def _node_label(node, index: int) -> str:
    return node.name or (node.output[0] if node.output and node.output[0] else f"{node.op_type}_{index}")


def _toposort(graph_proto, source: str) -> list:
    """Nodes in dependency order (ONNX requires it; tolerate files that do not keep it)."""
    nodes = list(graph_proto.node)
    available = {t.name for t in graph_proto.initializer} | {i.name for i in graph_proto.input}
    producers = {}
    for index, node in enumerate(nodes):
        for out in node.output:
            if out:
                producers[out] = index
    for index, node in enumerate(nodes):
        for name in node.input:
            if name and name not in available and name not in producers:
                raise ModelError(f"input '{name}' is used but never defined (no graph input, initializer or "
                                 "node output has that name)", file=source, node=_node_label(node, index))
    waiting = [sum(1 for n in set(node.input) if n and n not in available) for node in nodes]
    users: dict[str, list[int]] = {}
    for index, node in enumerate(nodes):
        for name in set(node.input):
            if name and name not in available:
                users.setdefault(name, []).append(index)
    ready = deque(i for i, w in enumerate(waiting) if w == 0)
    order = []
    while ready:
        index = ready.popleft()
        order.append(nodes[index])
        for out in nodes[index].output:
            for user in users.pop(out, []) if out else []:
                waiting[user] -= 1
                if waiting[user] == 0:
                    ready.append(user)
    if len(order) != len(nodes):
        stuck = next(i for i, w in enumerate(waiting) if w > 0)
        raise ModelError("the graph has a cycle", file=source, node=_node_label(nodes[stuck], stuck))
    return order


def _convert_node(ctx: ConvertContext, node, index: int, base_dir: str | None, source: str) -> None:
    label = _node_label(node, index)
    ctx.node_name = label
    if node.domain not in DEFAULT_DOMAINS:
        raise UnsupportedOpError(f"unsupported op '{node.op_type}' of domain '{node.domain}'", file=source,
                                 node=label)
    entry = CONVERTERS.get(node.op_type)
    if entry is None:
        raise UnsupportedOpError(f"unsupported ONNX op type '{node.op_type}'", file=source, node=label)
    for out in node.output:
        if out and (out in ctx.graph.values or ctx.resolve(out) != out):
            raise ModelError(f"value '{out}' is defined twice", file=source, node=label)
    for attr in node.attribute:
        if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_location == TensorProto.EXTERNAL:
            try:
                _load_external(attr.t, base_dir)
            except ValueError as exc:
                raise ModelError(f"attribute '{attr.name}': {exc}", file=source, node=label) from None
    try:
        entry.fn(ctx, NodeView(node, ctx, index))
    except ModelError as exc:
        if exc.node or exc.file:
            raise
        raise ModelError(f"{node.op_type}: {exc.problem}", file=source, node=label) from None
    except Exception as exc:  # converters raise ValueError; anything else is a bad node too
        raise ModelError(f"{node.op_type}: {exc}", file=source, node=label) from None
    for i, out in enumerate(node.output):
        users = [n for n in ctx.onnx_consumers.get(out, []) if id(n) not in ctx.skip] if out else []
        if users and ctx.resolve(out) not in ctx.graph.values:
            raise ModelError(f"{node.op_type} output {i} ('{out}') is not supported", file=source, node=label)


def _set_outputs(ctx: ConvertContext, graph_proto, source: str) -> None:
    graph = ctx.graph
    for value_info in graph_proto.output:
        name = value_info.name
        target = ctx.resolve(name)
        if target not in graph.values:
            raise ModelError(f"graph output '{name}' is never produced", file=source)
        if target != name:  # a pass-through op made the output an alias: keep the ONNX name
            ctx.node_name = name
            graph.add_node("Identity", [target], [name], name=name)
        graph.outputs.append(name)
