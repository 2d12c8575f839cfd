"""OpenVINO IR reader: an .xml/.bin pair (IR v10 or v11) into a gpu_int8 Graph.

Layers become nodes whose op type is the layer type (with OpenVINO's few
serializer renames undone: Const, ReLU, SoftMax, PReLU), their ``<data>``
attributes are parsed by the op's attribute schema, and the layer's opset
version lands in ``node.attrs["opset"]``.  Parameters become graph inputs,
Results graph outputs, Consts graph constants read from the .bin.

Values are named after the first tensor name of their port (IR v11 ``names``),
else after the layer, so a model keeps the input and output names it has in
OpenVINO.  Every structural problem is a ModelError naming the file, the layer
(name, id and type) and what is wrong.
"""

from __future__ import annotations

import mmap
import os
import re
from pathlib import Path

import numpy as np

from gpu_int8.errors import ModelError, UnsupportedOpError
from gpu_int8.frontends.ir_attributes import parse_attr, parse_int
from gpu_int8.frontends.ir_constants import decode_constant
from gpu_int8.frontends.ir_format import (
    ELEMENT_TYPES,
    IR_TO_OP_TYPE,
    PARAMETER_TYPES,
    PRECISIONS,
    UNKNOWN_PRECISIONS,
)
from gpu_int8.frontends.ir_layers import Edge, IrDocument, Layer, Port, parse_document, parse_shape, parse_xml_bytes
from gpu_int8.graph import Graph
from gpu_int8.ops import get_op

#: a graph input may not declare more elements than this (8 GiB of float32)
MAX_INPUT_ELEMENTS = 2**31

_OPSET = re.compile(r"opset(\d+)")


def read_ir(xml_path, bin_path=None) -> Graph:
    """Read an OpenVINO IR model; ``bin_path`` defaults to the .xml's name with suffix .bin.

    Input shapes stay as declared (dynamic dimensions are None); fix them with
    :func:`gpu_int8.graph.set_input_shapes`, then run
    :func:`gpu_int8.graph.infer_shapes`.
    """
    xml_path = Path(xml_path)
    file = str(xml_path)
    try:
        data = xml_path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the model file: {exc.strerror or exc}", file=file) from None
    document = parse_document(parse_xml_bytes(data, file), file)
    bin_path = Path(bin_path) if bin_path is not None else xml_path.with_suffix(".bin")
    with _Weights(bin_path, file) as weights:
        return _GraphBuilder(document, file, weights).build()


class _Weights:
    """The .bin file, mapped only when the first constant needs it."""

    def __init__(self, path: Path, file: str):
        self.path, self.file = path, file
        self._handle = self._map = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._map is not None:
            self._map.close()
        if self._handle is not None:
            self._handle.close()

    @property
    def blob(self):
        if self._map is None:
            try:
                self._handle = open(self.path, "rb")  # noqa: SIM115 - closed in __exit__
                size = os.fstat(self._handle.fileno()).st_size
                self._map = mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
            except (OSError, ValueError) as exc:
                raise ModelError(f"cannot read the weights file {self.path.name}: {exc}", file=self.file) from None
        return self._map


class _GraphBuilder:
    def __init__(self, document: IrDocument, file: str, weights: _Weights):
        self.doc, self.file, self.weights = document, file, weights
        self.layers: dict[int, Layer] = {}
        for layer in document.layers:
            if layer.id in self.layers:
                raise layer.error(f"layer id {layer.id} is used twice (also by '{self.layers[layer.id].name}')",
                                  file)
            self.layers[layer.id] = layer
        self.graph = Graph(document.name, source=file)

    def build(self) -> Graph:
        sources = self._connect()
        names = self._name_values()
        for layer in self.doc.layers:
            inputs = [names[sources[(layer.id, port.id)]] for port in layer.inputs]
            outputs = [names[(layer.id, port.id)] for port in layer.outputs]
            if layer.type == "Parameter":
                self._add_parameter(layer, outputs)
            elif layer.type in ("Const", "Constant"):
                self._add_constant(layer, outputs)
            elif layer.type == "Result":
                self._add_result(layer, inputs)
            else:
                self._add_op(layer, inputs, outputs)
        if not self.graph.outputs:
            raise ModelError("the model has no Result layer, so no outputs", file=self.file)
        self.graph.check()
        self.graph.toposort()
        return self.graph

    # -- edges and value names -------------------------------------------------------
    def _connect(self) -> dict[tuple[int, int], tuple[int, int]]:
        """(to-layer, to-port) -> (from-layer, from-port); every input port exactly once."""
        sources: dict[tuple[int, int], tuple[int, int]] = {}
        for edge in self.doc.edges:
            producer, consumer = self.layers.get(edge.from_layer), self.layers.get(edge.to_layer)
            if producer is None or consumer is None:
                missing = edge.from_layer if producer is None else edge.to_layer
                raise ModelError(f"edge {_show_edge(edge)} names layer id={missing}, which does not exist",
                                 file=self.file)
            out_port = _find_port(producer.outputs, edge.from_port)
            in_port = _find_port(consumer.inputs, edge.to_port)
            if out_port is None:
                raise producer.error(f"edge {_show_edge(edge)} leaves from port {edge.from_port}, "
                                     f"which is not an output port of this layer", self.file)
            if in_port is None:
                raise consumer.error(f"edge {_show_edge(edge)} arrives at port {edge.to_port}, "
                                     f"which is not an input port of this layer", self.file)
            key = (edge.to_layer, edge.to_port)
            if key in sources:
                raise consumer.error(f"input port {edge.to_port} has two incoming edges", self.file)
            if not _dims_fit(out_port.dims, in_port.dims):
                raise consumer.error(f"input port {edge.to_port} declares shape {_show(in_port.dims)}, but the "
                                     f"edge from layer id={edge.from_layer} brings {_show(out_port.dims)}", self.file)
            sources[key] = (edge.from_layer, edge.from_port)
        for layer in self.doc.layers:
            for port in layer.inputs:
                if (layer.id, port.id) not in sources:
                    raise layer.error(f"input port {port.id} is connected to nothing", self.file)
        return sources

    def _name_values(self) -> dict[tuple[int, int], str]:
        """A unique value name per output port: its first tensor name, else the layer's name."""
        names: dict[tuple[int, int], str] = {}
        taken: set[str] = set()
        for layer in self.doc.layers:
            for port in layer.outputs:
                if port.names and port.names[0] not in taken:
                    names[(layer.id, port.id)] = port.names[0]
                    taken.add(port.names[0])
        for layer in self.doc.layers:
            for index, port in enumerate(layer.outputs):
                if (layer.id, port.id) in names:
                    continue
                base = layer.name if index == 0 else f"{layer.name}:{index}"
                name, suffix = base, 0
                while name in taken:
                    suffix += 1
                    name = f"{base}_{suffix}"
                names[(layer.id, port.id)] = name
                taken.add(name)
        return names

    # -- layers --------------------------------------------------------------------
    def _add_parameter(self, layer: Layer, outputs: list[str]) -> None:
        self._expect_ports(layer, 0, 1)
        element = self._element_type(layer, PARAMETER_TYPES)
        shape = self._shape_attr(layer)
        port = layer.outputs[0]
        if shape is not None and not _dims_fit(shape, port.dims):
            raise layer.error(f"shape {_show(shape)} does not fit its output port's {_show(port.dims)}", self.file)
        if shape is not None and None not in shape and np.prod(shape, dtype=object) > MAX_INPUT_ELEMENTS:
            raise layer.error(f"input shape {_show(shape)} is too large", self.file)
        self._check_precision(layer, port, element.dtype)
        self.graph.add_input(outputs[0], shape, element.dtype)

    def _add_constant(self, layer: Layer, outputs: list[str]) -> None:
        self._expect_ports(layer, 0, 1)
        element = self._element_type(layer, ELEMENT_TYPES)
        shape = self._shape_attr(layer)
        if shape is None or None in shape:
            raise layer.error(f"a constant needs a static shape, not {_show(shape)}", self.file)
        offset, size = (self._int_attr(layer, key) for key in ("offset", "size"))
        port = layer.outputs[0]
        if not _dims_fit(shape, port.dims):
            raise layer.error(f"shape {_show(shape)} does not fit its output port's {_show(port.dims)}", self.file)
        self._check_precision(layer, port, element.dtype)
        try:
            data = decode_constant(self.weights.blob, element, shape, offset, size)
        except ValueError as exc:
            raise layer.error(str(exc), self.file) from None
        self.graph.add_const(outputs[0], data)

    def _add_result(self, layer: Layer, inputs: list[str]) -> None:
        self._expect_ports(layer, 1, 0)
        self.graph.outputs.append(inputs[0])

    def _add_op(self, layer: Layer, inputs: list[str], outputs: list[str]) -> None:
        op_type = IR_TO_OP_TYPE.get(layer.type, layer.type)
        op = get_op(op_type)
        if op is None:
            raise UnsupportedOpError(f"layer id={layer.id}: unsupported op type '{layer.type}' ({layer.version})",
                                     file=self.file, node=layer.name)
        match = _OPSET.fullmatch(layer.version)
        if match is None:
            raise UnsupportedOpError(f"layer id={layer.id}: op {layer.type} of version '{layer.version}' is not "
                                     f"a standard opset op", file=self.file, node=layer.name)
        if not layer.outputs:
            raise layer.error("the layer has no output port", self.file)
        attrs = {}
        for key, text in layer.data.items():
            spec = op.attributes.get(key)
            if spec is None:
                attrs[key] = text  # unknown to the op definition: kept verbatim
                continue
            try:
                attrs[key] = parse_attr(spec.kind, text)
            except ValueError as exc:
                raise layer.error(f"attribute {key}: {exc}", self.file) from None
        missing = [k for k, spec in op.attributes.items() if spec.required and k not in attrs and k != "opset"]
        if missing:
            raise layer.error(f"required attribute(s) {', '.join(missing)} missing", self.file)
        attrs["opset"] = int(match.group(1))
        self.graph.add_node(op_type, inputs, outputs, attrs, name=layer.name)
        for port, name in zip(layer.outputs, outputs):
            value = self.graph.values[name]
            value.shape = port.dims
            value.dtype = self._port_dtype(layer, port)

    # -- attribute helpers -------------------------------------------------------------
    def _expect_ports(self, layer: Layer, n_in: int, n_out: int) -> None:
        if len(layer.inputs) != n_in or len(layer.outputs) != n_out:
            raise layer.error(f"a {layer.type} layer has {n_in} input and {n_out} output port(s), this one "
                              f"{len(layer.inputs)} and {len(layer.outputs)}", self.file)

    def _text_attr(self, layer: Layer, key: str) -> str:
        if key not in layer.data:
            raise layer.error(f"required attribute {key} missing", self.file)
        return layer.data[key]

    def _int_attr(self, layer: Layer, key: str) -> int:
        try:
            return parse_int(self._text_attr(layer, key))
        except ValueError as exc:
            raise layer.error(f"attribute {key}: {exc}", self.file) from None

    def _element_type(self, layer: Layer, allowed):
        name = self._text_attr(layer, "element_type")
        if name not in allowed:
            raise layer.error(f"element_type '{name}' is not supported here (supported: {', '.join(sorted(allowed))})",
                              self.file)
        return ELEMENT_TYPES[name]

    def _shape_attr(self, layer: Layer):
        try:
            return parse_shape(self._text_attr(layer, "shape"))
        except ValueError as exc:
            raise layer.error(f"attribute shape: {exc}", self.file) from None

    def _port_dtype(self, layer: Layer, port: Port):
        if port.precision is None or port.precision.upper() in UNKNOWN_PRECISIONS:
            return None
        element = PRECISIONS.get(port.precision.upper()) or ELEMENT_TYPES.get(port.precision.lower())
        if element is None:
            raise layer.error(f"port {port.id} has unknown precision '{port.precision}'", self.file)
        return element.dtype

    def _check_precision(self, layer: Layer, port: Port, dtype) -> None:
        declared = self._port_dtype(layer, port)
        if declared is not None and declared != dtype:
            raise layer.error(f"output port precision {port.precision} contradicts element_type "
                              f"{layer.data.get('element_type')}", self.file)


def _find_port(ports: list[Port], port_id: int) -> Port | None:
    return next((p for p in ports if p.id == port_id), None)


def _dims_fit(a, b) -> bool:
    """Two declared shapes agree: same rank and equal wherever both are static (None: rank unknown)."""
    if a is None or b is None:
        return True
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _show(shape) -> str:
    return "[...]" if shape is None else "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def _show_edge(edge: Edge) -> str:
    return f"{edge.from_layer}:{edge.from_port} -> {edge.to_layer}:{edge.to_port}"
