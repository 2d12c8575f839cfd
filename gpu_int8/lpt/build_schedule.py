"""The last rewrite: the LPT graph becomes a Schedule of fused steps.

Walking the graph in order, every int8 op (convolution, matmul, pooling) and
every stored tensor read through its dequantization starts a :class:`Chain`;
elementwise consumers (scale, bias, activation, residual add/multiply of
another int8 tensor, the next FakeQuantize) extend its epilogue.  A chain
becomes a step when a consumer cannot be fused: then it stores int8 at its
last quantize point (the dequantization that remains starts the next chain)
or float32.  Ops with no int8 form become float steps, with quantize and
dequantize steps at their boundaries.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.errors import ModelError
from gpu_int8.graph import Node
from gpu_int8.lpt.epilogue_chain import Chain
from gpu_int8.lpt.fake_quantize_decomposition import is_quantize_point
from gpu_int8.lpt.fusion_rules import (
    CONV_OPS,
    DECONV_OPS,
    FLOAT_REASONS,
    MOVE_OPS,
    POOL_OPS,
    activation,
    affine_of,
    affine_terms,
)
from gpu_int8.lpt.lpt_graph import LptGraph
from gpu_int8.lpt.qparams import channel_vectors
from gpu_int8.ops import get_op, spatial
from gpu_int8.ops.reduce_common import normalize_axes
from gpu_int8.schedule import Schedule, Step, Tensor
from gpu_int8.schedule.tensor import DTYPES, dtype_name


class _PadSource:
    """A Pad of int8 data that the next convolution absorbs."""

    def __init__(self, tensor: str, pads_begin, pads_end, value: int, node: Node):
        self.tensor, self.pads_begin, self.pads_end, self.value, self.node = tensor, pads_begin, pads_end, value, node


def build_schedule(g: LptGraph, original_nodes: set[str] | None = None) -> Schedule:
    """Fuse and lower the LPT graph ``g``; ``original_nodes`` names the source graph's nodes to
    report as absorbed (all nodes when None)."""
    return _Builder(g, original_nodes).build()


class _Builder:
    def __init__(self, g: LptGraph, original_nodes: set[str] | None):
        self.g, self.graph = g, g.graph
        self.original = original_nodes
        self.env: dict[str, str | Chain | _PadSource] = {}
        self.float_of: dict[str, str] = {}
        self.tensors: dict[str, Tensor] = {}
        self.steps: list[Step] = []
        self.step_names: set[str] = set()
        self.done: set[str] = set()

    # -- driver --------------------------------------------------------------------
    def build(self) -> Schedule:
        for name in self.graph.inputs:
            self.declare(name, self.g.dtype(name), self.g.shape(name))
            self.env[name] = name
        for node in self.graph.nodes:
            if node.name not in self.done:
                self.visit(node)
        outputs = [self.as_float(name) for name in self.graph.outputs]
        schedule = Schedule(self.graph.name, self.tensors, self.steps, list(self.graph.inputs), outputs)
        schedule.check()
        return schedule

    def visit(self, node: Node) -> None:
        g, t = self.g, node.op_type
        if node.inputs and all(g.const(v) is not None for v in node.inputs if v):
            return self.fold(node)
        if t == "FakeQuantize" and is_quantize_point(g, node):
            return self.quantize_point(node)
        if t == "Convert" and self.is_float_convert(node) and (
                self.is_int(node.inputs[0]) or isinstance(self.env.get(node.inputs[0]), Chain)):
            return self.pass_through(node)
        if t in CONV_OPS + DECONV_OPS + ("MatMul",) and g.dtype(node.outputs[0]) == np.dtype(np.int32) and (
                isinstance(self.env.get(node.inputs[0]), _PadSource) or self.int_tensor(node.inputs[0]) is not None):
            return self.accumulate(node)
        if t in POOL_OPS and self.pool(node):
            return None
        if t == "Pad" and self.pad_for_convolution(node):
            return None
        if t in MOVE_OPS and self.move(node):
            return None
        if node.inputs and self.extend(node):
            return None
        if t in ("Add", "Multiply") and self.residual(node):
            return None
        return self.float_step(node)

    # -- environment -------------------------------------------------------------------
    def declare(self, name: str, dtype, shape, origin: str | None = None) -> str:
        if name in self.tensors:
            raise ModelError(f"schedule tensor '{name}' written twice", file=self.graph.source)
        dtype = np.dtype(dtype)
        if dtype == np.float16 or dtype == np.float64:
            dtype = np.dtype(np.float32)
        params = self.g.qparams.get(name)
        tensor = Tensor(name, shape, dtype_name(dtype), None, None, None, origin or self.g.origins.get(name))
        if params is not None and dtype in (np.dtype(np.uint8), np.dtype(np.int8)):
            tensor.scale, tensor.zero_point, tensor.axis = params.scale, params.zero_point, params.axis
        self.tensors[name] = tensor
        return name

    def is_int(self, value: str) -> bool:
        """Whether ``value`` holds integers: a stored int8 tensor or a chain at a quantize point."""
        e = self.env.get(value)
        if isinstance(e, Chain):
            return bool(e.checkpoints) and e.checkpoints[-1].position == len(e.program) - 1
        return isinstance(e, str) and self.tensors[e].is_int8

    def is_float_convert(self, node: Node) -> bool:
        return node.outputs and self.g.dtype(node.outputs[0]) == np.dtype(np.float32)

    def take(self, value: str, float_start: bool = False) -> Chain | None:
        """A chain the caller may extend with the op that reads ``value``; for a float tensor a new
        chain when ``float_start`` (it leads to a quantize point), else None."""
        e = self.env.get(value)
        if isinstance(e, Chain):
            if e.duplicable:
                return e.copy()
            if self.g.uses(value) == 1:
                return e
            self.store_shared(value)
            return self.take(value)
        if isinstance(e, str) and (self.tensors[e].is_int8 or float_start):
            return Chain(value, self.g.shape(value), "convert", [e])
        return None

    def leads_to_quantize(self, node: Node) -> bool:
        """Whether ``node`` starts a run of single-use elementwise ops that ends at a quantize point,
        so float ops there fuse into the quantize step."""
        g = self.g
        while True:
            users = g.consumers(node.outputs[0])
            if len(users) != 1 or g.uses(node.outputs[0]) != 1:
                return False
            node = users[0]
            if is_quantize_point(g, node):
                return True
            if activation(g, node) is None and affine_of(g, node) is None:
                return False

    def store_shared(self, value: str) -> None:
        """A chain read by several ops: store it as int8 where it can, else float32."""
        chain = self.env[value]
        cp = chain.last_checkpoint()
        if cp is None:
            self.emit(chain, value, np.float32)
            self.env[value] = value
            return
        if cp.value not in self.tensors:  # copies of a duplicable chain reach the same quantize point
            part = chain.copy()
            part.truncate(cp.position)
            self.emit(part, cp.value, cp.dtype)
        if cp.position == len(chain.program) - 1:
            self.env[value] = cp.value
            return
        rest = Chain(value, chain.shape, "convert", [cp.value], axis=chain.axis)
        rest.affine(*chain.tail_affine(cp.position + 1))
        self.env[value] = rest

    def int_tensor(self, value: str) -> str | None:
        """The stored int8 tensor of ``value`` (storing a chain at its quantize point), or None."""
        if value not in self.env or not self.is_int(value):
            return None
        if isinstance(self.env[value], Chain):
            self.store_shared(value)
        return self.env[value]

    def as_float(self, value: str) -> str:
        """A float32 tensor holding ``value``."""
        if value in self.float_of:
            return self.float_of[value]
        e = self.env[value]
        if isinstance(e, _PadSource):
            raise ModelError("internal: a fused Pad read as float", file=self.graph.source, node=e.node.name)
        if isinstance(e, Chain):
            shared = not e.duplicable and self.g.uses(value) > 1
            float_source = e.kind == "convert" and not self.tensors[e.inputs[0]].is_int8
            if (shared or float_source) and e.last_checkpoint() is not None:
                self.store_shared(value)
                return self.as_float(value)
            name = value if value not in self.tensors else self.graph.unique_name(f"{value}/f32")
            self.emit(e.copy() if e.duplicable else e, name, np.float32)
            self.float_of[value] = name
            if not e.duplicable:
                self.env[value] = name
            return name
        tensor = self.tensors[e]
        if not tensor.is_int8:
            return e
        chain = Chain(value, tensor.shape, "convert", [e], axis=tensor.axis)
        scale = tensor.scale if tensor.scale is not None else np.ones(1)
        zero = tensor.zero_point if tensor.zero_point is not None else np.zeros(1)
        chain.affine(scale, -zero.astype(np.float64) * scale)
        name = self.graph.unique_name(f"{value}/f32")
        self.emit(chain, name, np.float32)
        self.float_of[value] = name
        return name

    # -- steps -------------------------------------------------------------------------
    def absorb(self, chain: Chain, node: Node) -> None:
        if self.original is None or node.name in self.original:
            chain.absorbed.append((node.op_type, node.name))

    def step_name(self, base: str) -> str:
        name, i = base, 1
        while name in self.step_names:
            i += 1
            name = f"{base}#{i}"
        self.step_names.add(name)
        return name

    def emit(self, chain: Chain, output: str, dtype) -> None:
        """Turn a chain into a step writing ``output`` as ``dtype``."""
        dtype = np.dtype(dtype)
        # the model's int8 runtime decides how a fused residual branch rounds: OpenVINO for an IR,
        # ONNX Runtime for an ONNX (QDQ) file (see Chain._clamp_unstored_quantize_points)
        chain.finish(clamp_branches=not str(self.graph.source or "").lower().endswith(".onnx"))
        if dtype != np.float32 and (not chain.program or chain.program[-1][0] != "round"):
            raise ModelError(f"internal: int8 output '{output}' without rounding", file=self.graph.source)
        kind = chain.kind
        if kind == "convert":
            source_int = self.tensors[chain.inputs[0]].is_int8
            if dtype != np.float32:
                kind = "requantize" if source_int else "quantize"
            else:
                kind = "dequantize" if source_int else "elementwise"
        base = chain.absorbed[-1][1] if chain.absorbed and chain.kind == "convert" \
            else (chain.absorbed[0][1] if chain.absorbed else output)
        self.declare(output, dtype, chain.shape, origin=self.g.origins.get(output) if dtype != np.float32
                     else output)
        self.steps.append(Step(self.step_name(base), kind, list(chain.inputs), [output], dict(chain.attrs),
                               dict(chain.consts), [list(i) for i in chain.program], chain.axis,
                               list(chain.absorbed)))

    def op_step(self, node: Node, kind: str, tensors: dict[str, str], reason: str | None = None) -> None:
        """A move or float step running ``node``'s op on ``tensors`` (value -> tensor)."""
        args, consts, inputs = [], {}, []
        for i, value in enumerate(node.inputs):
            if not value:
                args.append(None)
            elif self.g.const(value) is not None:
                key = f"in{i}"
                consts[key] = np.asarray(self.g.const(value))
                args.append(["c", key])
            else:
                args.append(["t", tensors[value]])
                if tensors[value] not in inputs:
                    inputs.append(tensors[value])
        outputs = []
        for value in node.outputs:
            dtype = self.g.dtype(value)
            if dtype not in DTYPES.values():
                dtype = np.dtype(np.float32) if dtype.kind == "f" else np.dtype(np.int64)
            outputs.append(self.declare(value, dtype, self.g.shape(value), origin=self.g.origins.get(value, value)))
            self.env[value] = value
        attrs = {"op_type": node.op_type, "op_attrs": dict(node.attrs), "args": args}
        if reason:
            attrs["reason"] = reason
        absorbed = [(node.op_type, node.name)] if self.original is None or node.name in self.original else []
        self.steps.append(Step(self.step_name(node.name), kind, inputs, outputs, attrs, consts, [], None, absorbed))

    def float_step(self, node: Node) -> None:
        tensors = {v: self.as_float(v) for v in node.inputs if v and self.g.const(v) is None}
        reason = self.g.refusals.get(node.name) or FLOAT_REASONS.get(node.op_type)
        if reason is None:
            int8_capable = node.op_type in CONV_OPS + DECONV_OPS + POOL_OPS + MOVE_OPS + ("MatMul",) \
                or activation(self.g, node) is not None or affine_of(self.g, node) is not None
            reason = "its input is not quantized (no FakeQuantize in front of it)" if int8_capable \
                else "no int8 form for this op"
        self.op_step(node, "float", tensors, reason)

    def fold(self, node: Node) -> None:
        """A node of constants only (a weight dequantization left to a float op): computed now."""
        args = [self.g.const(v) if v else None for v in node.inputs]
        with np.errstate(all="ignore"):
            results = get_op(node.op_type).run(node, *args)
        for value, data in zip(node.outputs, results):
            self.graph.values[value].data = np.asarray(data)

    # -- handlers ------------------------------------------------------------------------
    def quantize_point(self, node: Node) -> None:
        """FakeQuantize onto the integer range + Convert: the chain rounds; its value is the integers."""
        g = self.g
        convert = g.consumers(node.outputs[0])[0]
        q = convert.outputs[0]
        il, ih = (np.asarray(g.const(v), np.float64) for v in node.inputs[1:3])
        qmin, qmax = (int(np.asarray(g.const(v)).reshape(-1)[0]) for v in node.inputs[3:5])
        levels = int(node.attrs["levels"])
        m = (levels - 1) / (ih - il)
        b = qmin - il * m
        found = channel_vectors([m, b], len(g.shape(node.inputs[0])))
        if found is None:
            raise ModelError("FakeQuantize ranges vary along more than one axis", file=self.graph.source,
                             node=node.name)
        axis, (m, b) = found
        chain = self.take(node.inputs[0])
        if chain is not None and not chain.fit_axis(axis):
            self.store_float(node.inputs[0], chain)
            chain = None
        if chain is None:
            source = self.as_float(node.inputs[0])
            chain = Chain(node.inputs[0], g.shape(node.inputs[0]), "convert", [source], axis=axis)
        chain.affine(m, b)
        chain.round(qmin, qmax, q, g.dtype(q))
        self.absorb(chain, node)
        chain.value = q
        self.env[q] = chain
        self.done.add(convert.name)

    def store_float(self, value: str, chain: Chain) -> None:
        """Store a chain that cannot take the next op as float32 (a duplicable one stays as it is:
        the caller only held a copy)."""
        if not chain.duplicable:
            self.emit(chain, value, np.float32)
            self.env[value] = value

    def pass_through(self, node: Node) -> None:
        chain = self.take(node.inputs[0])
        chain.value = node.outputs[0]
        self.absorb(chain, node)
        self.env[node.outputs[0]] = chain

    def accumulate(self, node: Node) -> None:
        g, t = self.g, node.op_type
        x_value = node.inputs[0]
        out = node.outputs[0]
        shape = g.shape(out)
        pad = self.env.get(x_value)
        source = pad.tensor if isinstance(pad, _PadSource) else self.int_tensor(x_value)
        x_shape = self.tensors[source].shape
        w = g.const(node.inputs[1])
        inputs, attrs, consts = [source], {}, {}
        if t == "MatMul":
            attrs = {"transpose_a": bool(node.attrs.get("transpose_a", False)),
                     "transpose_b": bool(node.attrs.get("transpose_b", False))}
            if w is not None:
                consts["w"] = w
            else:
                inputs.append(self.int_tensor(node.inputs[1]))
            kind, axis = "matmul", len(shape) - 1
        elif t in CONV_OPS:
            grouped, strides, dilations, pads_begin, pads_end, out_sizes = get_op(t).geometry(
                node, g.shape(x_value), w.shape)
            pad_value = 0
            if isinstance(pad, _PadSource):
                pads_begin = [a + b for a, b in zip(pads_begin, pad.pads_begin)]
                pads_end = [a + b for a, b in zip(pads_end, pad.pads_end)]
                pad_value = pad.value
            attrs = {"strides": list(strides), "dilations": list(dilations), "pads_begin": list(pads_begin),
                     "pads_end": list(pads_end), "pad_value": int(pad_value), "group": int(grouped[0]),
                     "out_sizes": list(out_sizes)}
            consts["w"] = w.reshape(grouped)
            kind, axis = "conv", 1
        else:
            output_shape = g.const(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
            grouped, strides, dilations, pads_begin, pads_end, output_padding, _ = get_op(t).geometry(
                node, x_shape, w.shape, output_shape)
            attrs = {"strides": list(strides), "dilations": list(dilations), "pads_begin": list(pads_begin),
                     "pads_end": list(pads_end), "output_padding": list(output_padding), "group": int(grouped[0])}
            consts["w"] = w.reshape(grouped)
            kind, axis = "deconv", 1
        chain = Chain(out, shape, kind, inputs, attrs, consts, axis=axis)
        if isinstance(pad, _PadSource):
            self.absorb(chain, pad.node)
        self.absorb(chain, node)
        self.env[out] = chain

    def pool(self, node: Node) -> bool:
        """AvgPool / ReduceMean of a dequantized int8 tensor: sum the integers, the rest is epilogue."""
        g = self.g
        found = self.affine_of_int8(node.inputs[0])
        if found is None:
            return False
        source, m, b, axis = found
        out = node.outputs[0]
        shape = g.shape(out)
        if node.op_type == "AvgPool":
            if axis not in (None, 1):
                return False
            kernel, strides, _, pads_begin, pads_end, out_sizes = spatial.pool_attributes(
                node, get_op("AvgPool"), g.shape(node.inputs[0]), False)
            exclude = bool(node.attrs.get("exclude-pad", False))
            pad_value = 0
            if not exclude and (any(pads_begin) or any(pads_end)):
                q0 = -b / m  # the stored value of a real 0: what padding counts as
                if np.any(np.abs(q0 - np.rint(q0[0])) > 1e-6 * max(1.0, abs(q0[0]))):
                    return False
                pad_value = int(np.rint(q0[0]))
            attrs = {"kernel": list(kernel), "strides": list(strides), "pads_begin": list(pads_begin),
                     "pads_end": list(pads_end), "exclude_pad": exclude, "pad_value": pad_value,
                     "out_sizes": list(out_sizes)}
            kind = "avg_pool"
        else:
            axes = normalize_axes(g.const(node.inputs[1]), len(g.shape(node.inputs[0])))
            keep = bool(node.attrs.get("keep_dims", False))
            if g.const(node.inputs[1]) is None or (axis is not None and axis in axes):
                return False
            if axis is not None and not keep:
                axis -= sum(1 for a in axes if a < axis)
            attrs, kind = {"axes": list(axes), "keep_dims": keep}, "reduce_mean"
        chain = Chain(out, shape, kind, [source], attrs, axis=axis)
        chain.affine(m, b)
        self.absorb(chain, node)
        self.env[out] = chain
        return True

    def affine_of_int8(self, value: str):
        """(int8 tensor, m, b, axis) with ``value == tensor * m + b``, storing a chain at its quantize
        point if need be; None when ``value`` is no such thing."""
        e = self.env.get(value)
        if not isinstance(e, Chain):
            return None
        if not (e.duplicable and self.tensors[e.inputs[0]].is_int8 and all(i[0] == "affine" for i in e.program)):
            if e.last_checkpoint() is None:
                return None
            self.store_shared(value)
            e = self.env[value]
            if isinstance(e, str):
                return e, np.ones(1), np.zeros(1), None
        m, b = e.tail_affine(0)
        return e.inputs[0], m, b, e.axis

    def pad_for_convolution(self, node: Node) -> bool:
        """A constant Pad of int8 data read only by a convolution becomes that convolution's padding."""
        g = self.g
        users = g.consumers(node.outputs[0])
        if len(users) != 1 or users[0].op_type not in CONV_OPS or users[0].inputs[0] != node.outputs[0] \
                or g.uses(node.outputs[0]) != 1 or g.dtype(users[0].outputs[0]) != np.dtype(np.int32):
            return False
        if str(node.attrs.get("pad_mode", "constant")).lower() != "constant":
            return False
        source = self.int_tensor(node.inputs[0])
        consts = [g.const(v) if v else None for v in node.inputs[1:4]]
        if source is None or consts[0] is None or consts[1] is None:
            return False
        begin = [int(v) for v in np.asarray(consts[0]).reshape(-1)]
        end = [int(v) for v in np.asarray(consts[1]).reshape(-1)]
        if any(begin[:2]) or any(end[:2]) or min(begin + end) < 0:
            return False
        value = int(np.asarray(consts[2]).reshape(-1)[0]) if consts[2] is not None else 0
        self.env[node.outputs[0]] = _PadSource(source, begin[2:], end[2:], value, node)
        return True

    def move(self, node: Node) -> bool:
        """A data movement on int8 tensors: runs on the stored integers."""
        g = self.g
        data = [v for v in node.inputs if v and g.const(v) is None]
        if node.op_type != "Concat":
            data = data[:1]
            if any(g.const(v) is None for v in node.inputs[1:] if v):
                return False
        if not data or not all(self.is_int(v) for v in data) or not self.is_int_value(node.outputs[0]):
            return False
        tensors = {v: self.int_tensor(v) for v in data}
        self.op_step(node, "move", tensors)
        return True

    def is_int_value(self, value: str) -> bool:
        return self.g.dtype(value) in (np.dtype(np.uint8), np.dtype(np.int8))

    def extend(self, node: Node) -> bool:
        """An activation or a constant scale/bias after a chain."""
        g = self.g
        act = activation(g, node)
        if act is not None:
            kind, params, slope = act
            chain = self.take(node.inputs[0], self.leads_to_quantize(node))
            if chain is None:
                return False
            if slope is not None:
                if not chain.fit_axis(slope.axis):
                    self.store_float(node.inputs[0], chain)
                    return False
                params = {"slope": chain.add_vector("slope", slope.scale)}
            chain.activation(kind, params)
            return self._advance(chain, node)
        found = affine_of(g, node)
        if found is None:
            return False
        operand, const, axis, vector = found
        if operand != node.inputs[0] and node.op_type not in ("Multiply", "Add", "Subtract"):
            return False
        chain = self.take(operand, self.leads_to_quantize(node))
        if chain is None:
            return False
        if not chain.fit_axis(axis):
            self.store_float(operand, chain)
            return False
        const_first = operand != node.inputs[0]
        if chain.accumulates and not chain.program and node.op_type in ("Subtract", "Add") and not const_first \
                and np.all(const == np.rint(const)) and np.all(np.abs(const) < 2**31):
            offset = np.rint(vector).astype(np.int64)  # an integer offset of the accumulator
            chain.comp = (0 if chain.comp is None else chain.comp) + (-offset if node.op_type == "Subtract" else offset)
        elif not (node.op_type == "Add" and chain.fold_bias(vector)):  # a bias on the int32 grid stays integer
            chain.affine(*affine_terms(node, const_first, vector))
        return self._advance(chain, node)

    def _advance(self, chain: Chain, node: Node) -> bool:
        chain.value = node.outputs[0]
        self.absorb(chain, node)
        self.env[node.outputs[0]] = chain
        return True

    def residual(self, node: Node) -> bool:
        """Add/Multiply of two tensors, one of them a chain: the other joins its epilogue."""
        g = self.g
        a, b = node.inputs
        if g.const(a) is not None or g.const(b) is not None:
            return False
        out_shape = g.shape(node.outputs[0])
        candidates = [v for v in (a, b) if isinstance(self.env.get(v), Chain) and g.shape(v) == out_shape]
        if not candidates:
            return False
        candidates.sort(key=lambda v: self.env[v].duplicable)  # an accumulating chain leads
        main_value = candidates[0]
        other = b if main_value == a else a
        term = self.operand_term(other)
        if term is None:
            return False
        tensor, m, b_vec, axis = term
        chain = self.take(main_value)
        if chain is None or not chain.fit_axis(axis):
            return False
        chain.inputs.append(tensor)  # epilogue operands are inputs 1.., even when input 0 is the same tensor
        op = "add" if node.op_type == "Add" else "mul"
        chain.program.append([op, len(chain.inputs) - 1, chain.add_vector("m", m), chain.add_vector("b", b_vec)])
        return self._advance(chain, node)

    def operand_term(self, value: str):
        """(stored tensor, m, b, axis): ``value`` as ``tensor * m + b``."""
        found = self.affine_of_int8(value)
        if found is not None:
            return found
        return self.as_float(value), np.ones(1), np.zeros(1), None
