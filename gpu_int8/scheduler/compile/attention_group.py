"""Scaled dot-product attention with the steps that only prepare its operands and the ones
that only carry its output on, as one kernel.

PP-OCRv4 rec's attention (OpenVINO's ScaledDotProductAttention) reads its queries and keys
dequantized from int8 (NNCF puts a FakeQuantize on each), and its output is quantized for
the MatMul after it.  The operands come out of one float projection [L, 3 * heads * D]: a
Reshape and a Transpose split it into heads, three Slices take the queries, keys and values,
and the query and key slices are quantized on their own.  The output goes back to
[L, heads * D] through a Transpose and a Reshape.  Apart, those were seven launches besides
the attention's (consecutive moves copy once, ``compile/move_chain.py``), the float ones
storing four bytes an element.

One ``plan_attention.cl`` launch does it all: it reads each operand element where the moves
would have taken it from (the index maps of the moves compose, :mod:`~gpu_int8.scheduler.move_maps`,
and here they are affine in the attention's (head, row, column)), through the quantize and
dequantize programs on the way, and stores each output, quantized, where the moves put it:
the same programs on the same float32 values, so the same integers.

A group is consecutive steps: the attention and the per-tensor quantize of its output, the
moves (one tensor in, one out) and per-tensor quantize / dequantize steps before it whose
tensors only the group reads, and the moves after it that only carry the output on.  Plans
built with ``keep_all`` keep the steps apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.actions import Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, step_epilogue, store_expr
from gpu_int8.scheduler.compile.float_ops import attention_setup
from gpu_int8.scheduler.compile.indexing import Placement
from gpu_int8.scheduler.compile.move_chain import grouped_step, single_move
from gpu_int8.scheduler.move_maps import NotAGather, logical_maps
from gpu_int8.scheduler.program_cache import kernel_source

_ATTENTION = "ScaledDotProductAttention"
_QUANTIZATIONS = ("quantize", "dequantize")


@dataclass
class Route:
    """How the kernel reaches an operand (or stores its output): the tensor it reads (writes),
    the quantize and dequantize steps on the way, in order, and element (b, i, t)'s offset in
    that tensor: ``base`` plus, for each of the leading axes b runs over (``lead``, sizes and
    strides, the last fastest), its index times its stride, plus ``i * strides[0] + t *
    strides[1]``.  A batch of several images keeps its images and heads apart: their
    strides differ (PP-OCRv4 rec on 5 lines: an image 43200 elements on, a head 15)."""

    tensor: str
    programs: list[Step]
    base: int
    lead: tuple[tuple[int, int], ...]
    strides: tuple[int, int]

    def offset_macro(self) -> str:
        """The offset as a C expression of ``b``, ``i`` and ``t``."""
        terms, inner = [], 1
        for size, stride in reversed(self.lead):
            index = f"(b) / {inner}" if inner > 1 else "(b)"
            if inner * size < np.prod([d for d, _ in self.lead]):
                index = f"({index}) % {size}"
            terms.append(f"(size_t)({index}) * {stride}")
            inner *= size
        terms += [f"(size_t)({v}) * {s}" for v, s in zip("it", self.strides, strict=True) if s]
        return "((size_t)" + " + ".join([str(self.base), *terms]) + ")"


def attention_groups(schedule: Schedule, placements: dict[str, Placement]) -> dict[int, list[int]]:
    """Groups by the index of their first step: each as wide as its routes allow."""
    readers: dict[str, set[int]] = {}
    for j, step in enumerate(schedule.steps):
        for name in step.inputs:
            readers.setdefault(name, set()).add(j)
    outputs, steps, groups = set(schedule.outputs), schedule.steps, {}

    def only_by(name: str, members: set[int]) -> bool:
        return name not in outputs and readers.get(name, set()) <= members

    for i in range(len(steps) - 1):
        op, quant = steps[i], steps[i + 1]
        if op.kind != "float" or op.op_type != _ATTENTION or len(op.outputs) != 1 \
                or not only_by(op.outputs[0], {i + 1}) or quant.kind != "quantize" or quant.inputs != op.outputs \
                or len(quant.outputs) != 1 or quant.axis is not None:
            continue
        first, last = i, i + 1
        while first > 0 and _feeds_operands(steps[first - 1]) \
                and all(only_by(name, set(range(first, last + 1))) for name in steps[first - 1].outputs):
            first -= 1
        while last + 1 < len(steps) and single_move(steps[last + 1]) \
                and steps[last + 1].inputs[0] == steps[last].outputs[0] and only_by(steps[last].outputs[0], {last + 1}):
            last += 1
        # the widest group whose routes exist: steps drop off the front, then the back
        for lo, hi in [(lo, last) for lo in range(first, i + 1)] + [(i, hi) for hi in range(last - 1, i, -1)]:
            if routes(steps[lo:hi + 1], placements) is not None:
                groups[lo] = list(range(lo, hi + 1))
                break
    return groups


def _feeds_operands(step: Step) -> bool:
    """A move of one tensor, or a per-tensor quantize / dequantize."""
    return single_move(step) or (step.kind in _QUANTIZATIONS and step.axis is None
                                 and len(step.inputs) == 1 and len(step.outputs) == 1)


def routes(steps: list[Step], placements: dict[str, Placement]) -> tuple[list[Route], Route] | None:
    """The routes of the attention's queries, keys and values, and of its output, through the
    group ``steps``; None where one is not affine, or leaves the group in another way."""
    op = next((s for s in steps if s.kind == "float" and s.op_type == _ATTENTION), None)
    if op is None:
        return None
    at = steps.index(op)
    args = op.attrs.get("args", [])
    if len(args) < 3 or any(a is None or a[0] != "t" for a in args[:3]):
        return None
    produced = {name: s for s in steps[:at] for name in s.outputs}
    operands = []
    for _, name in args[:3]:
        chain = []  # the steps from a tensor the group does not compute to the operand, in order
        while name in produced:
            chain.insert(0, produced[name])
            name = chain[0].inputs[0]
        route = _affine_route(name, [s for s in chain if s.kind in _QUANTIZATIONS], _through(chain, name, placements),
                              placements)
        if route is None:
            return None
        operands.append(route)
    quant, moves = steps[at + 1], steps[at + 2:]
    index = _through(moves, quant.outputs[0], placements)  # final element -> attention output element
    if index is None:
        return None
    flat = index.reshape(-1)
    if not np.array_equal(np.sort(flat), np.arange(flat.size)):
        return None  # not every output element stored exactly once
    where = np.empty(flat.size, np.int64)
    where[flat] = np.arange(flat.size)
    out = _affine_route(steps[-1].outputs[0], [quant], where.reshape(placements[op.outputs[0]].shape), placements)
    return (operands, out) if out is not None else None


def _through(moves: list[Step], name: str, placements: dict[str, Placement]) -> np.ndarray | None:
    """Per element of the last step's output, the logical index it comes from in tensor ``name``
    (quantizations pass elements through), or None where a step is not a plain gather."""
    index = np.arange(placements[name].size, dtype=np.int64).reshape(placements[name].shape)
    for step in moves:
        if step.kind in _QUANTIZATIONS:
            continue
        try:
            which, source, fill = logical_maps(step, [index.shape], placements[step.inputs[0]].np_dtype)[0]
        except NotAGather:
            return None
        if fill is not None or np.any(which != 0):
            return None
        index = index.reshape(-1)[source].reshape(placements[step.outputs[0]].shape)
    return index


def _affine_route(name: str, programs: list[Step], index: np.ndarray | None,
                  placements: dict[str, Placement]) -> Route | None:
    """The route to tensor ``name`` (plain layout) when ``index`` (offsets in it over the attention's
    [..., L, D]) is affine in its axes; leading axes of size one drop, and each that continues
    the next one (its stride the next one's times its size) merges with it."""
    if index is None or placements[name].layout != "plain" or index.ndim < 2:
        return None
    base = int(index.reshape(-1)[0])
    strides = [int(index[tuple(np.eye(index.ndim, dtype=int)[d])] - base) if index.shape[d] > 1 else 0
               for d in range(index.ndim)]
    coords = np.indices(index.shape)
    if not np.array_equal(index, base + sum(c * st for c, st in zip(coords, strides))):
        return None
    lead: list[tuple[int, int]] = []
    for size, stride in zip(index.shape[:-2], strides[:-2]):
        if size == 1:
            continue
        if lead and lead[-1][1] == stride * size:
            lead[-1] = (lead[-1][0] * size, stride)
        else:
            lead.append((size, stride))
    return Route(name, programs, base, tuple(lead), (strides[-2], strides[-1]))


def compile_attention_group(ctx: CompileContext, steps: list[Step]) -> StepPlan | None:
    """The group's one launch, or None where the kernel does not apply."""
    found = routes(steps, ctx.placements)
    op = next(s for s in steps if s.kind == "float" and s.op_type == _ATTENTION)
    setup = attention_setup(ctx, op)
    if found is None or setup is None:
        return None
    operands, out = found
    quant = out.programs[0]
    y_p = ctx.placement(out.tensor)
    if y_p.dtype not in ("u8", "i8"):
        return None
    macros, names, (gsize, lsize) = setup
    buffers, prelude = [], ""
    for role, name, route in zip("qkv", names, operands, strict=True):
        R = role.upper()
        macros[f"{R}_OFF(b, i, t)"] = route.offset_macro()
        macros[f"{R}_T"] = ctx.placement(route.tensor).cl_type
        if not route.programs:  # read as it is stored
            macros[f"LOAD_{R}(v)"] = "(v)"
            buffers.append(("b", ctx.dummy_buffer()))
            continue
        code = step_epilogue(_one_program(route.programs), ctx.placement(name), f"attention_{role}")
        if code.inputs:
            return None
        macros[f"LOAD_{R}(v)"] = code.call("(v)", "0", f"k{role}", {})
        prelude += code.source
        buffers.append(("b", ctx.epilogue_buffer(code)))
    code = step_epilogue(quant, y_p, "attention_y")
    if code.inputs:
        return None
    macros.update({"Y_OFF(b, i, t)": out.offset_macro(), "Y_T": y_p.cl_type,
                   "STORE_Y(v)": store_expr(y_p.dtype, code.call("(v)", "0", "ky", {}), program=quant.epilogue),
                   "GROUP_ARGS": "".join(f", __global const float *k{r}" for r in "qkvy")})
    refs = ctx.builder.instance(kernel_source("plan_attention.cl"), macros, prelude=prelude + code.source)
    tensors = [route.tensor for route in operands]
    launch = Launch(refs["attention"], [("t", out.tensor)] + [("t", t) for t in tensors]
                    + buffers + [("b", ctx.epilogue_buffer(code))], gsize, lsize, "attention_q")
    # the step reads every tensor the launch does (the memory plan keeps them until then)
    step = dataclasses.replace(grouped_step(steps), inputs=list(dict.fromkeys(tensors)))
    return StepPlan(step, "attention_q", "opencl", [launch])


def _one_program(programs: list[Step]) -> Step:
    """Quantize / dequantize steps in turn as one step: their programs one after the other, each
    one's constants renamed apart.  A quantize ends rounding into its integer range, so its value
    is the one it stored."""
    program, consts = [], {}
    for n, step in enumerate(programs):
        rename = {key: f"s{n}_{key}" for key in step.consts}

        def renamed(arg, rename=rename):  # constant names, also inside an activation's parameters
            if isinstance(arg, dict):
                return {key: renamed(value) for key, value in arg.items()}
            return rename.get(arg, arg) if isinstance(arg, str) else arg

        consts.update({rename[key]: value for key, value in step.consts.items()})
        program += [[ins[0], *(renamed(a) for a in ins[1:])] for ins in step.epilogue]
    return dataclasses.replace(programs[-1], epilogue=program, consts=consts)
