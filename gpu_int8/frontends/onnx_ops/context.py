"""What an ONNX op converter works with: the node being converted and the graph being built.

A converter reads attributes through :class:`NodeView` and adds canonical
(OpenVINO-semantics) nodes through :class:`ConvertContext`.  Everything a
converter cannot make sense of is raised as ``ValueError``; the reader turns it
into a ModelError that names the file and the node.
"""

from __future__ import annotations

import numpy as np
from onnx import AttributeProto, NodeProto, helper, numpy_helper

from gpu_int8.graph import Graph

_REQUIRED = object()

#: ONNX element types the graph can hold, with OpenVINO's names for Convert
SUPPORTED_DTYPES = {
    np.dtype(np.float32): "f32", np.dtype(np.float16): "f16", np.dtype(np.float64): "f64",
    np.dtype(np.int8): "i8", np.dtype(np.uint8): "u8", np.dtype(np.int16): "i16", np.dtype(np.uint16): "u16",
    np.dtype(np.int32): "i32", np.dtype(np.uint32): "u32", np.dtype(np.int64): "i64", np.dtype(np.uint64): "u64",
    np.dtype(np.bool_): "boolean",
}


def onnx_dtype(elem_type: int) -> np.dtype:
    """NumPy dtype of an ONNX element type; ValueError for types the engine does not handle."""
    try:
        dtype = np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    except Exception:
        raise ValueError(f"unknown ONNX element type {elem_type}") from None
    if dtype not in SUPPORTED_DTYPES:
        name = helper.tensor_dtype_to_string(elem_type).replace("TensorProto.", "").lower()
        raise ValueError(f"element type {name} is not supported")
    return dtype


def ov_type(dtype) -> str:
    """OpenVINO element type name of a NumPy dtype (Convert's destination_type)."""
    return SUPPORTED_DTYPES[np.dtype(dtype)]


def tensor_to_array(tensor) -> np.ndarray:
    """A TensorProto's data as a NumPy array (external data must already be loaded)."""
    onnx_dtype(tensor.data_type)  # refuse unsupported element types with a clear message
    if tensor.HasField("data_location") and tensor.data_location == tensor.EXTERNAL:
        raise ValueError(f"tensor '{tensor.name}' keeps its data in an external file")
    array = numpy_helper.to_array(tensor)
    if array.size != int(np.prod(tensor.dims, dtype=np.int64)):
        raise ValueError(f"tensor '{tensor.name}' holds {array.size} values for shape {list(tensor.dims)}")
    return array


class NodeView:
    """One ONNX node: parsed attributes, inputs resolved to graph value names."""

    def __init__(self, proto: NodeProto, ctx: ConvertContext, index: int):
        self.proto = proto
        self.op_type = proto.op_type
        self.name = proto.name or (proto.output[0] if proto.output and proto.output[0] else f"{proto.op_type}_{index}")
        self.opset = ctx.opset
        self.inputs = [ctx.resolve(name) if name else "" for name in proto.input]
        self.outputs = list(proto.output)
        self._attrs = {a.name: a for a in proto.attribute}

    def input(self, i: int) -> str:
        """Name of input ``i``, or "" when absent."""
        return self.inputs[i] if i < len(self.inputs) else ""

    def require_inputs(self, count: int) -> None:
        present = [n for n in self.inputs[:count] if n]
        if len(present) < count:
            raise ValueError(f"{self.op_type} needs {count} inputs, node has {len(present)}")

    def output_used(self, i: int) -> bool:
        return i < len(self.outputs) and bool(self.outputs[i])

    def has_attr(self, name: str) -> bool:
        return name in self._attrs

    def attr(self, name: str, default=_REQUIRED):
        """Attribute value as a Python value (str, int, float, lists, ndarray); default when absent."""
        proto = self._attrs.get(name)
        if proto is None:
            if default is _REQUIRED:
                raise ValueError(f"{self.op_type} lacks required attribute '{name}'")
            return default
        if proto.type == AttributeProto.TENSOR:
            return tensor_to_array(proto.t)
        if proto.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS):
            raise ValueError(f"attribute '{name}' holds a subgraph; control flow is not supported")
        if proto.type in (AttributeProto.SPARSE_TENSOR, AttributeProto.SPARSE_TENSORS, AttributeProto.TENSORS):
            raise ValueError(f"attribute '{name}' of type {AttributeProto.AttributeType.Name(proto.type)} "
                             "is not supported")
        value = helper.get_attribute_value(proto)
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        if isinstance(value, list) and value and isinstance(value[0], bytes):
            return [v.decode("utf-8", errors="replace") for v in value]
        return value


class ConvertContext:
    """The graph under construction, with the lookups converters need."""

    def __init__(self, graph: Graph, opset: int, type_info: dict[str, tuple], reserved: set[str]):
        self.graph = graph
        self.opset = opset
        #: ONNX value name -> (dtype or None, shape tuple with None dims, or None)
        self.type_info = type_info
        self._reserved = reserved  # names the model defines later: helpers must not take them
        self._alias: dict[str, str] = {}
        self.node_name = ""
        #: ONNX value name -> the ONNX nodes that read it (QDQ pairing looks ahead)
        self.onnx_consumers: dict[str, list[NodeProto]] = {}
        self.onnx_outputs: set[str] = set()
        #: ONNX nodes already converted as part of an earlier node (id of the NodeProto)
        self.skip: set[int] = set()

    # -- names -------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """The graph value that stands for ONNX value ``name`` (pass-through ops rename)."""
        while name in self._alias:
            name = self._alias[name]
        return name

    def alias(self, onnx_name: str, target: str) -> None:
        """Make later uses of ``onnx_name`` read ``target`` (no node is emitted)."""
        self._alias[onnx_name] = target
        if target not in self.type_info and onnx_name in self.type_info:
            self.type_info[target] = self.type_info[onnx_name]

    def fresh(self, base: str) -> str:
        name, i = base, 0
        while name in self.graph.values or name in self._reserved:
            i += 1
            name = f"{base}_{i}"
        return name

    # -- constants ---------------------------------------------------------
    def const(self, data, base: str = "const", dtype=None) -> str:
        """Add a constant; returns its value name."""
        array = np.asarray(data, dtype=dtype)
        name = self.fresh(f"{self.node_name}/{base}" if self.node_name else base)
        self.graph.add_const(name, array)
        return name

    def const_value(self, name: str) -> np.ndarray | None:
        """The data of ``name`` when it is a constant known now, else None."""
        if not name:
            return None
        value = self.graph.values.get(self.resolve(name))
        return None if value is None else value.data

    def const_ints(self, name: str, what: str) -> list[int]:
        data = self.const_value(name)
        if data is None:
            raise ValueError(f"{what} must be a constant")
        return [int(v) for v in np.asarray(data).reshape(-1)]

    # -- nodes -------------------------------------------------------------
    def emit(self, op_type: str, inputs: list[str], outputs: list[str] | int | None = None,
             attrs: dict | None = None, suffix: str | None = None) -> list[str]:
        """Add a canonical node; returns its output names.

        ``outputs`` names the outputs (the ONNX node's, usually) or gives a
        count of fresh ones; "" entries become fresh names (unused outputs).
        """
        base = f"{self.node_name}/{suffix or op_type}"
        if outputs is None or isinstance(outputs, int):
            outputs = [""] * (outputs or 1)
        # fresh names avoid every ONNX name, and differ from each other by their ":i"
        names = [out or self.fresh(f"{base}:{i}" if i else base) for i, out in enumerate(outputs)]
        # the node producing the ONNX node's own output carries the ONNX node's name
        name = self.node_name if outputs[0] and suffix is None else base
        self.graph.add_node(op_type, inputs, names, attrs, name=name)
        return names

    def emit1(self, op_type: str, inputs: list[str], output: str = "", attrs: dict | None = None,
              suffix: str | None = None) -> str:
        return self.emit(op_type, inputs, [output], attrs, suffix)[0]

    # -- type info (from ONNX shape inference; may be missing) -------------------
    def shape(self, name: str) -> tuple | None:
        value = self.graph.values.get(self.resolve(name))
        if value is not None and value.data is not None:
            return tuple(value.data.shape)
        info = self.type_info.get(name) or self.type_info.get(self.resolve(name))
        return None if info is None else info[1]

    def rank(self, name: str) -> int | None:
        shape = self.shape(name)
        return None if shape is None else len(shape)

    def need_rank(self, name: str, why: str) -> int:
        rank = self.rank(name)
        if rank is None:
            raise ValueError(f"the rank of '{name}' is unknown, and {why} needs it")
        return rank

    def axes_from(self, name: str, start: int) -> str:
        """Axes ``start .. rank-1`` of ``name``: a constant, or (rank unknown now) a subgraph
        ShapeOf -> ShapeOf -> Squeeze -> Range that folds once shapes are known."""
        rank = self.rank(name)
        if rank is not None:
            return self.const(np.arange(start, rank, dtype=np.int64), "axes")
        shape = self.emit1("ShapeOf", [name], attrs={"output_type": "i64"}, suffix="shape")
        rank_vec = self.emit1("ShapeOf", [shape], attrs={"output_type": "i64"}, suffix="rank")
        rank_name = self.emit1("Squeeze", [rank_vec], suffix="rank_scalar")
        return self.emit1("Range", [self.const(np.array(start, np.int64), "axes_start"), rank_name,
                                    self.const(np.array(1, np.int64), "axes_step")],
                          attrs={"output_type": "i64", "opset": 4}, suffix="axes")

    def dtype(self, name: str, default=None) -> np.dtype | None:
        value = self.graph.values.get(self.resolve(name))
        if value is not None and value.dtype is not None:
            return value.dtype
        info = self.type_info.get(name) or self.type_info.get(self.resolve(name))
        if info is None or info[0] is None:
            return None if default is None else np.dtype(default)
        return info[0]
