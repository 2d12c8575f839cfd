"""OpenVINO IR writer: a gpu_int8 Graph into an IR v11 .xml/.bin pair OpenVINO can load.

The offline ``quantize`` stage uses it to hand a FakeQuantize model to
OpenVINO.  Graph inputs become Parameters, constants Consts (identical
constants share their bytes in the .bin), nodes layers of their op type (with
OpenVINO's serializer renames: Relu -> ReLU, ...) and opset version
``node.attrs["opset"]`` (or a default per op type), graph outputs Results.
Value names are written as port tensor names, so reading the file back
gives the same names.  Identity nodes (a gpu_int8 pass-through, not an
OpenVINO op) are not written: their output becomes a second tensor name of
their input.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from gpu_int8.errors import ModelError
from gpu_int8.frontends.ir_attributes import format_attr
from gpu_int8.frontends.ir_constants import encode_constant
from gpu_int8.frontends.ir_format import DEFAULT_OPSET, DTYPE_TO_ELEMENT, ELEMENT_TYPES, OP_TO_IR_TYPE
from gpu_int8.graph import Graph, Node, Value
from gpu_int8.ops import get_op

#: gpu_int8 op types with no OpenVINO counterpart that just pass their input on
_PASS_THROUGH = frozenset({"Identity"})


def write_ir(graph: Graph, xml_path, bin_path=None) -> None:
    """Write ``graph`` as IR v11: ``xml_path`` and ``bin_path`` (default: the .xml's name with .bin).

    Shapes and dtypes should be inferred first (they become the port
    dimensions and precisions); both files are replaced atomically.
    """
    xml_path = Path(xml_path)
    bin_path = Path(bin_path) if bin_path is not None else xml_path.with_suffix(".bin")
    writer = _Writer(graph, str(xml_path))
    root = writer.build()
    ET.indent(root, space="\t")
    text = b'<?xml version="1.0"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"
    _write_atomically(bin_path, b"".join(writer.blobs))
    _write_atomically(xml_path, text)


class _Writer:
    def __init__(self, graph: Graph, file: str):
        self.graph, self.file = graph, file
        self.net = ET.Element("net", name=graph.name, version="11")
        self.layers_el = ET.SubElement(self.net, "layers")
        self.edges: list[tuple[str, int, int]] = []  # (value name, to-layer, to-port)
        self.ports: dict[str, tuple[int, int]] = {}  # value name -> (layer id, output port id)
        self.port_elements: dict[str, ET.Element] = {}
        self.aliases = {n.outputs[0]: n.inputs[0] for n in graph.nodes if n.op_type in _PASS_THROUGH}
        self.blobs: list[bytes] = []
        self.offsets: dict[tuple[str, str], int] = {}  # (digest, element) -> offset of identical bytes
        self.size = 0
        self.next_id = 0

    def build(self) -> ET.Element:
        producers = self.graph.producers()
        for name in self.graph.inputs:
            self._parameter(self.graph.value(name))
        for node in self.graph.nodes:
            for name in node.inputs:
                if name and name not in self.ports and name not in producers:
                    self._constant(self.graph.value(name), node)
        for node in self.graph.nodes:
            if node.op_type not in _PASS_THROUGH:
                self._op(node)
        for name in self.graph.outputs:
            if self._source(name) not in self.ports:
                self._constant(self.graph.value(self._source(name)), None)
            self._result(self.graph.value(name))
        for alias, source in self.aliases.items():
            port = self.port_elements.get(self._source(source))
            if port is not None:
                port.set("names", port.get("names") + "," + _escape_name(alias))
        edges_el = ET.SubElement(self.net, "edges")
        for name, to_layer, to_port in self.edges:
            from_layer, from_port = self.ports[self._source(name)]
            ET.SubElement(edges_el, "edge", {"from-layer": str(from_layer), "from-port": str(from_port),
                                             "to-layer": str(to_layer), "to-port": str(to_port)})
        return self.net

    # -- layers ------------------------------------------------------------------------
    def _layer(self, name: str, ir_type: str, version: int) -> tuple[int, ET.Element]:
        layer_id = self.next_id
        self.next_id += 1
        el = ET.SubElement(self.layers_el, "layer", id=str(layer_id), name=name, type=ir_type,
                           version=f"opset{version}")
        return layer_id, el

    def _parameter(self, value: Value) -> None:
        element = self._element(value.dtype, value.name)
        layer_id, el = self._layer(value.name, "Parameter", 1)
        shape = "..." if value.shape is None else ",".join("?" if d is None else str(d) for d in value.shape)
        ET.SubElement(el, "data", shape=shape, element_type=element)
        self._output_ports(el, layer_id, [value], first_id=0)

    def _constant(self, value: Value, user: Node | None) -> None:
        if not value.is_const:
            where = f"node '{user.name}' reads" if user is not None else "the graph outputs"
            raise ModelError(f"{where} value '{value.name}', which nothing produces", file=self.file)
        try:
            element, data = encode_constant(value.data)
        except ValueError as exc:
            raise ModelError(f"constant '{value.name}': {exc}", file=self.file) from None
        offset = self._store(data, element)
        layer_id, el = self._layer(value.name, "Const", 1)
        ET.SubElement(el, "data", element_type=element, shape=", ".join(str(d) for d in value.data.shape),
                      offset=str(offset), size=str(len(data)))
        self._output_ports(el, layer_id, [value], first_id=0)

    def _op(self, node: Node) -> None:
        op = get_op(node.op_type)
        version = self._version(node, op)
        layer_id, el = self._layer(node.name, OP_TO_IR_TYPE.get(node.op_type, node.op_type), version)
        attrs = self._attributes(node, op)
        if attrs:
            ET.SubElement(el, "data", attrs)
        inputs = list(node.inputs)
        while inputs and not inputs[-1]:
            inputs.pop()  # absent trailing optional inputs are simply not listed
        if "" in inputs:
            raise ModelError(f"{node.op_type} leaves out input {inputs.index('')} but gives later ones, "
                             f"which OpenVINO IR cannot say", file=self.file, node=node.name)
        if inputs:
            in_el = ET.SubElement(el, "input")
            for port_id, name in enumerate(inputs):
                value = self.graph.value(name)
                self._port(in_el, port_id, value.shape, value.dtype)
                self.edges.append((name, layer_id, port_id))
        outputs = [self.graph.value(name) for name in node.outputs]
        out_el = self._output_ports(el, layer_id, outputs, first_id=len(inputs))
        if node.op_type == "MaxPool" and version >= 8 and len(outputs) == 1:
            # MaxPool-8 always has an indices output; the graph did not need it
            index_type = str(node.attrs.get("index_element_type", "i64"))
            self._port(out_el, len(inputs) + 1, outputs[0].shape, ELEMENT_TYPES[index_type].dtype)

    def _result(self, value: Value) -> None:
        layer_id, el = self._layer(f"{value.name}/sink_port_0", "Result", 1)
        in_el = ET.SubElement(el, "input")
        self._port(in_el, 0, value.shape, value.dtype)
        self.edges.append((value.name, layer_id, 0))

    # -- pieces ------------------------------------------------------------------------
    def _output_ports(self, el: ET.Element, layer_id: int, values: list[Value], first_id: int) -> ET.Element:
        out_el = ET.SubElement(el, "output")
        for index, value in enumerate(values):
            port = self._port(out_el, first_id + index, value.shape, value.dtype)
            port.set("names", _escape_name(value.name))
            self.ports[value.name] = (layer_id, first_id + index)
            self.port_elements[value.name] = port
        return out_el

    @staticmethod
    def _port(parent: ET.Element, port_id: int, shape, dtype) -> ET.Element:
        port = ET.SubElement(parent, "port", id=str(port_id))
        element = DTYPE_TO_ELEMENT.get(np.dtype(dtype)) if dtype is not None else None
        if element is not None:
            port.set("precision", ELEMENT_TYPES[element].precision)
        for dim in shape or ():
            ET.SubElement(port, "dim").text = "-1" if dim is None else str(dim)
        return port

    def _source(self, name: str) -> str:
        """The value ``name`` really is, looking through pass-through nodes."""
        seen = set()
        while name in self.aliases and name not in seen:
            seen.add(name)
            name = self.aliases[name]
        return name

    def _element(self, dtype, name: str) -> str:
        element = DTYPE_TO_ELEMENT.get(np.dtype(dtype)) if dtype is not None else None
        if element is None:
            raise ModelError(f"value '{name}' has dtype {dtype}, which OpenVINO IR cannot hold", file=self.file)
        return element

    @staticmethod
    def _version(node: Node, op) -> int:
        if "opset" in node.attrs:
            return int(node.attrs["opset"])
        spec = op.attributes.get("opset") if op is not None else None
        if spec is not None and not spec.required and spec.default is not None:
            return int(spec.default)
        return DEFAULT_OPSET.get(node.op_type, 1)

    @staticmethod
    def _attributes(node: Node, op) -> dict[str, str]:
        """Node attributes in OpenVINO's spelling, plus schema defaults the node leaves implicit."""
        schema = dict(op.attributes) if op is not None else {}
        out = {}
        for key, value in node.attrs.items():
            if key == "opset" or value is None:
                continue
            spec = schema.get(key)
            out[key] = format_attr(value, spec.kind if spec is not None and not isinstance(value, str) else None)
        for key, spec in schema.items():
            if key in out or key == "opset" or spec.required or spec.default is None:
                continue
            if isinstance(spec.default, (list, tuple)) and not spec.default:
                continue  # empty list: "derive from the input rank", which OpenVINO does when omitted
            out[key] = format_attr(spec.default, spec.kind)
        return out

    def _store(self, data: bytes, element: str) -> int:
        key = (hashlib.sha256(data).hexdigest(), element)
        if key not in self.offsets:
            self.offsets[key] = self.size
            self.blobs.append(data)
            self.size += len(data)
        return self.offsets[key]


def _escape_name(name: str) -> str:
    return name.replace(",", "\\,")


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
