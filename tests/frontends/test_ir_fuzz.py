"""Fuzzing the IR reader: corrupt files give a ModelError (or load), never anything else.

A small real IR (saved by OpenVINO) is mutated deterministically in the ways
files break: truncated or bit-flipped weights, wrong offsets and sizes, broken
XML, missing attributes, unknown op types, bad shapes and element types, edges
to ports or layers that do not exist.  Each mutant is loaded the whole way (read,
shape pass, one float run) within a time bound; the only acceptable outcomes
are success or a gpu_int8 ModelError that names the file.
"""

from __future__ import annotations

import contextlib
import copy
import signal
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gpu_int8.errors import ModelError
from gpu_int8.frontends.ir_reader import read_ir
from gpu_int8.graph import infer_shapes, set_input_shapes
from gpu_int8.reference.float_executor import FloatExecutor

ov = pytest.importorskip("openvino")
ops = pytest.importorskip("openvino.opset13")

SEED = 20241127
SECONDS_PER_FILE = 5.0


def build_base_model():
    """A little of everything the reader handles: i8 weight chain, multi-output layers, FakeQuantize."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = ops.parameter([1, 3, 12, 12], f32, name="input")
    w = ops.multiply(ops.convert(ops.constant(rng.integers(-127, 128, (6, 3, 3, 3)).astype(np.int8)), "f32"),
                     ops.constant(rng.uniform(0.01, 0.02, (6, 1, 1, 1)).astype(f32)))
    conv = ops.relu(ops.convolution(x, w, [1, 1], [1, 1], [1, 1], [1, 1]))
    fq = ops.fake_quantize(conv, ops.constant(f32(0)), ops.constant(f32(3)), ops.constant(f32(0)),
                           ops.constant(f32(3)), 256)
    pool = ops.max_pool(fq, [2, 2], [1, 1], [0, 0], [0, 0], [2, 2], "floor", "explicit", "i64", 0)
    parts = ops.split(pool.output(0), ops.constant(np.int64(1)), 2)
    cat = ops.concat([parts.output(1), ops.sigmoid(parts.output(0))], 1)
    flat = ops.reshape(cat, ops.constant(np.array([1, -1], np.int64)), False)
    weights = ops.convert(ops.constant(rng.standard_normal((5, 216)).astype(np.float16)), "f32")
    logits = ops.matmul(flat, weights, False, True)
    return ov.Model([ops.softmax(logits, 1).output(0), pool.output(1)], [x], "fuzz_base")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[bytes, bytes]:
    path = tmp_path_factory.mktemp("fuzz_base") / "base.xml"
    ov.save_model(build_base_model(), str(path), compress_to_fp16=False)
    return path.read_bytes(), path.with_suffix(".bin").read_bytes()


# -- mutations: each returns (xml bytes, bin bytes) ------------------------------------------

Mutation = Callable[[np.random.Generator, bytes, bytes], tuple[bytes, bytes]]


def _tree_edit(xml: bytes, edit) -> bytes:
    root = copy.deepcopy(ET.fromstring(xml))
    edit(root)
    return ET.tostring(root)


def _pick(rng, items):
    return items[int(rng.integers(len(items)))]


def truncate_bin(rng, xml, blob):
    return xml, blob[:int(rng.integers(0, len(blob)))]


def flip_bin_bytes(rng, xml, blob):
    data = bytearray(blob)
    for pos in rng.integers(0, len(data), int(rng.integers(1, 40))):
        data[pos] ^= int(rng.integers(1, 256))
    return xml, bytes(data)


def bad_offset_or_size(rng, xml, blob):
    def edit(root):
        layer = _pick(rng, [el for el in root.iter("layer") if el.get("type") == "Const"])
        key = _pick(rng, ["offset", "size"])
        value = _pick(rng, ["-1", "-4096", str(len(blob)), str(len(blob) + 1), str(2**63), str(2**64 + 3),
                            str(int(rng.integers(0, len(blob)))), "", "12abc", "0x10", " 4", "1e3"])
        layer.find("data").set(key, value)
    return _tree_edit(xml, edit), blob


def truncate_xml(rng, xml, blob):
    return xml[:int(rng.integers(0, len(xml)))], blob


def edit_xml_bytes(rng, xml, blob):
    data = bytearray(xml)
    for _ in range(int(rng.integers(1, 6))):
        pos = int(rng.integers(0, len(data)))
        data[pos] = _pick(rng, [ord(c) for c in '<>"&/=, -?9x\x00'] + [0xFF, 0xC3, int(rng.integers(0, 256))])
    return bytes(data), blob


def drop_xml_line(rng, xml, blob):
    lines = xml.split(b"\n")
    del lines[int(rng.integers(0, len(lines)))]
    return b"\n".join(lines), blob


def drop_attribute(rng, xml, blob):
    def edit(root):
        elements = [el for el in root.iter() if el.attrib and el.tag != "info" and el.tag != "net"]
        element = _pick(rng, elements)
        del element.attrib[_pick(rng, sorted(element.attrib))]
    return _tree_edit(xml, edit), blob


def unknown_op_type(rng, xml, blob):
    def edit(root):
        layer = _pick(rng, list(root.iter("layer")))
        layer.set("type", _pick(rng, ["Frobnicate", "", "Const", "Parameter", "Result", "Concat", "ReLU", "relu",
                                      "TensorIterator", "Loop"]))
        if rng.random() < 0.3:
            layer.set("version", _pick(rng, ["opset99", "internal", "", "opset", "experimental"]))
    return _tree_edit(xml, edit), blob


def bad_shape(rng, xml, blob):
    values = ["0", "-2", "-1", "?", "1..3", "7", "17", "2000000000000", "99999999999999999999", "x", "", "1.5"]

    def edit(root):
        choice = rng.random()
        if choice < 0.35:
            layer = _pick(rng, [el for el in root.iter("layer") if el.get("type") in ("Parameter", "Const")])
            data = layer.find("data")
            dims = [d.strip() for d in data.get("shape").split(",")] if data.get("shape").strip() else []
            if dims and rng.random() < 0.7:
                dims[int(rng.integers(len(dims)))] = _pick(rng, values)
            else:
                dims.append(_pick(rng, values))
            data.set("shape", ",".join(dims))
        else:
            dims = list(root.iter("dim"))
            _pick(rng, dims).text = _pick(rng, values)
    return _tree_edit(xml, edit), blob


def bad_element_type(rng, xml, blob):
    def edit(root):
        names = ["f32", "f16", "i8", "u8", "i4", "u1", "i64", "boolean", "bf16", "string", "q7", "", "F32", "f8e4m3"]
        precisions = ["FP32", "I64", "U8", "BOOL", "UNSPECIFIED", "FP99", "", "fp32"]
        choice = rng.random()
        if choice < 0.5:
            layer = _pick(rng, [el for el in root.iter("layer") if el.get("type") in ("Parameter", "Const")])
            layer.find("data").set("element_type", _pick(rng, names))
        elif choice < 0.7:
            convert = _pick(rng, [el for el in root.iter("layer") if el.get("type") == "Convert"])
            convert.find("data").set("destination_type", _pick(rng, names))
        else:
            _pick(rng, list(root.iter("port"))).set("precision", _pick(rng, precisions))
    return _tree_edit(xml, edit), blob


def bad_edge(rng, xml, blob):
    def edit(root):
        edges = root.find("edges")
        edge = _pick(rng, list(edges))
        choice = rng.random()
        if choice < 0.6:
            key = _pick(rng, ["from-layer", "from-port", "to-layer", "to-port"])
            edge.set(key, _pick(rng, ["9999", "-1", "0", "1", "2", "3", "", "a", str(2**70)]))
        elif choice < 0.8:
            edges.remove(edge)
        else:
            edges.append(copy.deepcopy(edge))
    return _tree_edit(xml, edit), blob


def entity_declarations(rng, xml, blob):
    head = _pick(rng, [b'<!DOCTYPE net [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
                       b'<!DOCTYPE net SYSTEM "http://example.invalid/net.dtd">',
                       b'<!DOCTYPE net [<!ENTITY x SYSTEM "file:///etc/passwd">]>'])
    body = xml.split(b"\n", 1)
    return body[0] + b"\n" + head + b"\n" + body[1].replace(b'name="fuzz_base"', b'name="&b;"', 1), blob


MUTATIONS: dict[str, tuple[Mutation, int]] = {  # name: (mutation, how many files)
    "truncate_bin": (truncate_bin, 15),
    "flip_bin_bytes": (flip_bin_bytes, 25),
    "bad_offset_or_size": (bad_offset_or_size, 30),
    "truncate_xml": (truncate_xml, 20),
    "edit_xml_bytes": (edit_xml_bytes, 30),
    "drop_xml_line": (drop_xml_line, 15),
    "drop_attribute": (drop_attribute, 30),
    "unknown_op_type": (unknown_op_type, 15),
    "bad_shape": (bad_shape, 30),
    "bad_element_type": (bad_element_type, 20),
    "bad_edge": (bad_edge, 25),
    "entity_declarations": (entity_declarations, 3),
}


# -- loading with a time bound ------------------------------------------------------------

class _TooSlow(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise _TooSlow in the main thread after ``seconds`` (where SIGALRM exists)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(*_):
        raise _TooSlow(f"still loading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_and_run(xml: Path) -> None:
    """Everything a user's first inference does: read, fix shapes, shape pass, one float run."""
    graph = read_ir(xml)
    set_input_shapes(graph, None)
    infer_shapes(graph)
    feeds = {name: np.zeros(graph.values[name].shape, graph.values[name].dtype) for name in graph.inputs}
    FloatExecutor(graph).run(feeds)


def test_base_model_loads(base, tmp_path):
    xml = tmp_path / "base.xml"
    xml.write_bytes(base[0])
    xml.with_suffix(".bin").write_bytes(base[1])
    load_and_run(xml)


def test_mutated_files_give_model_errors(base, tmp_path):
    rng = np.random.default_rng(SEED)
    outcomes: Counter = Counter()
    failures = []
    slowest = 0.0
    total = 0
    for name, (mutate, count) in MUTATIONS.items():
        for index in range(count):
            xml_bytes, bin_bytes = mutate(rng, *base)
            xml = tmp_path / f"{name}_{index}.xml"
            xml.write_bytes(xml_bytes)
            xml.with_suffix(".bin").write_bytes(bin_bytes)
            start = time.perf_counter()
            try:
                with time_limit(SECONDS_PER_FILE):
                    load_and_run(xml)
                outcomes[(name, "loads")] += 1
            except ModelError as exc:
                outcomes[(name, "ModelError")] += 1
                if xml.name not in str(exc):
                    failures.append(f"{xml.name}: ModelError does not name the file: {exc}")
            except Exception as exc:  # anything else is a reader bug  # noqa: BLE001
                failures.append(f"{xml.name}: {type(exc).__name__}: {exc}")
            slowest = max(slowest, time.perf_counter() - start)
            total += 1
            xml.unlink()
            xml.with_suffix(".bin").unlink()
    summary = ", ".join(f"{name} {kind} {n}" for (name, kind), n in sorted(outcomes.items()))
    print(f"\n{total} mutated files, slowest {slowest:.2f} s: {summary}")
    assert total >= 200
    assert not failures, "\n".join(failures[:30])
    errors = sum(n for (_, kind), n in outcomes.items() if kind == "ModelError")
    assert errors >= total // 2, "most mutations should be caught; the mutations may have stopped biting"
