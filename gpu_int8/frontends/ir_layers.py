"""The .xml half of OpenVINO IR, parsed safely into plain layer, port and edge records.

Nothing here knows about ops or the graph: it checks the file's structure
(required attributes, integer ids, unique ids, well-formed dimensions) and
reports every problem as a ModelError naming the file and the layer.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
import xml.parsers.expat
from dataclasses import dataclass, field

from gpu_int8.errors import ModelError
from gpu_int8.frontends.ir_attributes import parse_int
from gpu_int8.frontends.ir_format import SUPPORTED_IR_VERSIONS

#: the largest dimension a file may declare; far beyond any real tensor, small enough to never overflow
MAX_DIM = 2**40


@dataclass
class Port:
    """One input or output port of a layer."""

    id: int
    precision: str | None
    dims: tuple  # None entries are dynamic dimensions; () for a scalar (no <dim> at all)
    names: list[str] = field(default_factory=list)  # tensor names (IR v11), first one preferred


@dataclass
class Layer:
    """One ``<layer>``: its identity, its ``<data>`` attributes and its ports in file order."""

    id: int
    name: str
    type: str
    version: str
    data: dict[str, str]
    inputs: list[Port]
    outputs: list[Port]

    def error(self, problem: str, file: str) -> ModelError:
        """A ModelError that names this layer by name, id and type."""
        return ModelError(f"layer id={self.id} type={self.type}: {problem}", file=file, node=self.name)


@dataclass(frozen=True)
class Edge:
    from_layer: int
    from_port: int
    to_layer: int
    to_port: int


@dataclass
class IrDocument:
    """The parsed .xml: IR version, model name, layers in file order, edges."""

    version: int
    name: str
    layers: list[Layer]
    edges: list[Edge]


class _Refused(Exception):
    pass


def parse_xml_bytes(data: bytes, file: str) -> ET.Element:
    """Parse XML with expat, refusing any DOCTYPE or entity declaration (no entity expansion at all)."""
    builder = ET.TreeBuilder()
    parser = xml.parsers.expat.ParserCreate()

    def refuse(*_args):
        raise _Refused("the file declares a DOCTYPE or entities, which IR files never do; refusing to read it")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
        return builder.close()
    except _Refused as exc:
        raise ModelError(str(exc), file=file) from None
    except xml.parsers.expat.ExpatError as exc:
        raise ModelError(f"not well-formed XML: {exc}", file=file) from None
    except (AssertionError, ValueError) as exc:  # TreeBuilder state errors on odd input
        raise ModelError(f"not well-formed XML: {exc}", file=file) from None


def parse_dim(text: str) -> int | None:
    """A dimension: a non-negative integer, or dynamic (``-1``, ``?``, a range ``1..10``) as None."""
    text = text.strip()
    if text in ("-1", "?") or ".." in text and all(not p.strip() or p.strip().isdigit() for p in text.split("..", 1)):
        return None
    value = parse_int(text)
    if value < 0 or value > MAX_DIM:
        raise ValueError(f"dimension {value} is out of range")
    return value


def parse_shape(text: str) -> tuple | None:
    """A shape attribute ("1,3,?,?", "" for a scalar, "..." for unknown rank -> None)."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text == "...":
        return None
    if not text.strip():
        return ()
    return tuple(parse_dim(part) for part in text.split(","))


def split_names(text: str) -> list[str]:
    """Tensor names: comma-separated, a literal comma escaped as ``\\,``."""
    names, current = [], ""
    for piece in text.split(","):
        if current.endswith("\\"):
            current = current[:-1] + "," + piece
        else:
            names.append(current)
            current = piece
    names.append(current)
    return [n.strip() for n in names[1:] if n.strip()]


def parse_document(root: ET.Element, file: str) -> IrDocument:
    """Check the ``<net>`` structure and turn it into records."""
    if root.tag != "net":
        raise ModelError(f"root element is <{root.tag}>, an OpenVINO IR file has <net>", file=file)
    version_text = root.get("version")
    try:
        version = parse_int(version_text or "")
    except ValueError:
        raise ModelError(f"<net> has no valid IR version (version='{version_text}')", file=file) from None
    if version not in SUPPORTED_IR_VERSIONS:
        raise ModelError(f"IR version {version} is not supported (only {SUPPORTED_IR_VERSIONS})", file=file)
    layers_el = root.find("layers")
    if layers_el is None:
        raise ModelError("<net> has no <layers>", file=file)
    layers = [_parse_layer(el, i, file) for i, el in enumerate(layers_el.findall("layer"))]
    edges_el = root.find("edges")
    edges = [] if edges_el is None else [_parse_edge(el, i, file) for i, el in enumerate(edges_el.findall("edge"))]
    return IrDocument(version, root.get("name") or "model", layers, edges)


def _parse_layer(el: ET.Element, index: int, file: str) -> Layer:
    where = f"<layer> #{index}"
    missing = [a for a in ("id", "name", "type", "version") if el.get(a) is None]
    if missing:
        node = el.get("name") or where
        raise ModelError(f"layer id={el.get('id')} lacks attribute(s) {', '.join(missing)}", file=file, node=node)
    try:
        layer_id = parse_int(el.get("id"))
    except ValueError as exc:
        raise ModelError(f"layer id is malformed: {exc}", file=file, node=el.get("name")) from None
    layer = Layer(layer_id, el.get("name"), el.get("type"), el.get("version"), {}, [], [])
    data = el.find("data")
    if data is not None:
        layer.data = dict(data.attrib)
    for section, ports in (("input", layer.inputs), ("output", layer.outputs)):
        block = el.find(section)
        if block is None:
            continue
        for port_el in block.findall("port"):
            try:
                ports.append(_parse_port(port_el))
            except ValueError as exc:
                raise layer.error(f"{section} port {port_el.get('id')}: {exc}", file) from None
    ids = [p.id for p in layer.inputs + layer.outputs]
    if len(set(ids)) != len(ids):
        raise layer.error(f"port ids repeat: {ids}", file)
    return layer


def _parse_port(el: ET.Element) -> Port:
    if el.get("id") is None:
        raise ValueError("port has no id")
    port_id = parse_int(el.get("id"))
    dim_els = el.findall("dim")
    dims = tuple(parse_dim(d.text or "") for d in dim_els)
    names = split_names(el.get("names", ""))
    return Port(port_id, el.get("precision"), dims, names)


def _parse_edge(el: ET.Element, index: int, file: str) -> Edge:
    try:
        values = [parse_int(el.get(a) or "") for a in ("from-layer", "from-port", "to-layer", "to-port")]
    except ValueError as exc:
        raise ModelError(f"edge #{index} is malformed ({dict(el.attrib)}): {exc}", file=file) from None
    return Edge(*values)
