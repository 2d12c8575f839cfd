"""A tiny DSL for LPT tests, in the spirit of OpenVINO's LPT test guide: a graph
is an input precision, a dequantization, an op, and what follows.

    before = Net().input("u8", [1, 4, 8, 8]).dequantize(sub=128, mul=0.1).op("MaxPool", kernel=[2, 2]).build()
    after = Net().input("u8", [1, 4, 8, 8]).op("MaxPool", kernel=[2, 2]).dequantize(sub=128, mul=0.1).build()
    assert_same_graph(rewrite(move_dequantization, before), after)

``Net`` keeps a current value (``.out``) that each call extends; branches are
built by keeping ``.out`` and passing value names (or arrays, which become
constants) as extra op inputs.  Constants of ``dequantize`` are written the
way the rewrites write them: a scalar as a 0-d constant, a list as a
per-channel constant along axis 1.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.graph import Graph, infer_shapes
from gpu_int8.lpt.lpt_graph import LptGraph, clone_graph
from gpu_int8.reference.float_executor import FloatExecutor

DTYPES = {"u8": np.uint8, "i8": np.int8, "f32": np.float32, "i32": np.int32}


class Net:
    """Builds a Graph one op at a time."""

    def __init__(self, name: str = "net"):
        self.graph = Graph(name)
        self.out: str | None = None
        self._count = 0

    def _name(self, base: str) -> str:
        self._count += 1
        return f"{base}_{self._count}"

    def _rank(self, value: str) -> int:
        partial = infer_shapes(_partial(self.graph), fold=False)
        return len(partial.values[value].shape)

    def input(self, dtype: str, shape, name: str = "x") -> Net:
        self.graph.add_input(name, tuple(shape), DTYPES[dtype])
        self.out = name
        return self

    def const(self, data, dtype=np.float32) -> str:
        name = self._name("c")
        self.graph.add_const(name, np.asarray(data, dtype))
        return name

    def per_channel(self, values, rank: int):
        """A scalar as 0-d, a list as [1, C, 1, ...] (per channel along axis 1)."""
        values = np.asarray(values, np.float32)
        if values.ndim == 0:
            return values
        return values.reshape((1, -1) + (1,) * (rank - 2))

    def op(self, op_type: str, *inputs, first: str | None = None, outputs: int = 1, **attrs) -> Net:
        """``op_type`` reading ``first`` (default: the current value) and ``inputs``
        (value names, or arrays that become constants)."""
        names = [first or self.out]
        for x in inputs:
            names.append(x if isinstance(x, str) or x is None else self.const(np.asarray(x), np.asarray(x).dtype))
        node = self.graph.add_node(op_type, [n or "" for n in names], outputs, attrs, name=self._name(op_type))
        self.out = node.outputs[0]
        self.last_node = node
        return self

    def dequantize(self, sub=None, mul=None) -> Net:
        """Convert(f32) -> [Subtract(sub)] -> [Multiply(mul)] on the current value."""
        rank = self._rank(self.out)
        self.op("Convert", destination_type="f32")
        if sub is not None:
            self.op("Subtract", self.const(self.per_channel(sub, rank)))
        if mul is not None:
            self.op("Multiply", self.const(self.per_channel(mul, rank)))
        return self

    def fake_quantize(self, il, ih, ol, oh, levels: int = 256) -> Net:
        rank = self._rank(self.out)
        consts = [self.const(self.per_channel(v, rank)) for v in (il, ih, ol, oh)]
        return self.op("FakeQuantize", *consts, levels=levels)

    def quantize(self, il, ih, qmin, qmax, dtype: str, levels: int = 256) -> Net:
        """The decomposition's quantize point: FakeQuantize onto [qmin, qmax], Convert to u8/i8."""
        rank = self._rank(self.out)
        consts = [self.const(self.per_channel(v, rank)) for v in (il, ih)]
        self.op("FakeQuantize", *consts, self.const(np.float32(qmin)), self.const(np.float32(qmax)), levels=levels)
        return self.op("Convert", destination_type=dtype)

    def weights(self, values, scale, zero_point=None, dtype=np.int8) -> str:
        """NNCF's weight form: int8 constant -> Convert -> [Subtract] -> Multiply; returns its value."""
        keep = self.out
        self.out = self.const(values, dtype)
        self.op("Convert", destination_type="f32")
        if zero_point is not None:
            self.op("Subtract", self.const(zero_point))
        self.op("Multiply", self.const(scale))
        value, self.out = self.out, keep
        return value

    def build(self, *outputs: str) -> Graph:
        self.graph.outputs = list(outputs) or [self.out]
        return infer_shapes(self.graph)


def _partial(graph: Graph) -> Graph:
    """The graph so far with every value as an output, for shape queries while building."""
    g = clone_graph(graph)
    g.outputs = [o for n in g.nodes for o in n.outputs] or list(g.inputs)
    return g


def rewrite(transformation, graph: Graph) -> Graph:
    """``graph`` after one LPT rewrite (on a copy), cleaned up."""
    return lpt_rewrite(transformation, graph).graph


def lpt_rewrite(transformation, graph: Graph) -> LptGraph:
    g = LptGraph(clone_graph(graph))
    transformation(g)
    g.finish()
    return g


def assert_same_graph(actual: Graph, expected: Graph) -> None:
    """The graphs compute the same thing the same way: equal ops, attributes, constants and
    wiring from the inputs to each output (node and value names aside)."""
    assert len(actual.outputs) == len(expected.outputs), (actual.outputs, expected.outputs)
    for a, e in zip(actual.outputs, expected.outputs):
        _compare(actual, a, expected, e, path=f"output {e}")


def _compare(ga: Graph, a: str, ge: Graph, e: str, path: str) -> None:
    va, ve = ga.values[a], ge.values[e]
    if ve.is_const or va.is_const:
        assert va.is_const and ve.is_const, f"{path}: constant vs computed value"
        da, de = np.asarray(va.data), np.asarray(ve.data)
        assert da.dtype.kind == de.dtype.kind, f"{path}: constant dtype {da.dtype} != {de.dtype}"
        assert da.shape == de.shape, f"{path}: constant shape {da.shape} != {de.shape}"
        assert np.allclose(da, de, rtol=1e-6, atol=0), f"{path}: constant {da.ravel()[:6]} != {de.ravel()[:6]}"
        return
    pa, pe = _producer(ga, a), _producer(ge, e)
    if pe is None or pa is None:
        assert pa is None and pe is None, f"{path}: {a} vs {e}: graph input vs computed value"
        assert a == e, f"{path}: reads input {a}, expected {e}"
        return
    (na, ia), (ne, ie) = pa, pe
    where = f"{path} <- {ne.op_type}"
    assert na.op_type == ne.op_type, f"{path}: {na.op_type} ({na.name}) where {ne.op_type} was expected"
    assert ia == ie, f"{where}: output {ia} used, expected {ie}"
    attrs_a, attrs_e = _attrs(na.attrs), _attrs(ne.attrs)
    assert attrs_a == attrs_e, f"{where}: attributes {attrs_a} != {attrs_e}"
    assert len(na.inputs) == len(ne.inputs), f"{where}: {len(na.inputs)} inputs, expected {len(ne.inputs)}"
    for i, (xa, xe) in enumerate(zip(na.inputs, ne.inputs)):
        if not xa or not xe:
            assert not xa and not xe, f"{where}: input {i} present in one graph only"
            continue
        _compare(ga, xa, ge, xe, f"{where}[{i}]")


def _producer(graph: Graph, value: str):
    for node in graph.nodes:
        if value in node.outputs:
            return node, node.outputs.index(value)
    return None


def _attrs(attrs: dict) -> dict:
    def norm(v):
        if isinstance(v, (list, tuple)):
            return [norm(x) for x in v]
        if isinstance(v, np.generic):
            return v.item()
        return v

    return {k: norm(v) for k, v in attrs.items() if not k.startswith("_")}


def run_float(graph: Graph, feeds: dict) -> dict:
    return FloatExecutor(graph).run(feeds)
