"""Elementwise steps: quantize, requantize (eltwise add/multiply, activations),
dequantize, float elementwise; also the epilogue pass of an accumulator stored
as int32 and float activation / add / multiply layers.  One generated instance
of ``cl_kernels/plan_eltwise.cl`` per step shape."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpu_int8.schedule import Step
from gpu_int8.scheduler.compile.actions import Launch, StepPlan
from gpu_int8.scheduler.compile.context import (
    CompileContext,
    extra_args,
    step_epilogue,
    store_expr,
    wide_1d,
)
from gpu_int8.scheduler.compile.indexing import Placement, udiv_expr
from gpu_int8.scheduler.epilogue_codegen import EpilogueCode, epilogue_function
from gpu_int8.scheduler.program_cache import kernel_source

#: vectors per work-item of ``plan_eltwise8.cl``: its index arithmetic once for four (device
#: time of DenseNet-121's requantizations 1.13 -> 1.03 ms, cls's 0.043 -> 0.035, det's
#: 0.77 -> 0.74; old and new in one process)
VECTORS_PER_ITEM = 4


def coords_macro(out: Placement) -> tuple[str, str, list[str]]:
    """``(COORDS(IDX) body, SKIP condition, coordinate names)`` iterating ``out``'s physical positions."""
    names = [f"d{i}" for i in range(len(out.shape))]
    stmts, pad = out.decompose("IDX", names)
    return " ".join(stmts) or "(void)0;", pad or "0", names


def _offset(p: Placement, names: list[str], out: Placement) -> str:
    """Offset of operand ``p`` at the output's coordinates: the output's own index when stored alike."""
    if p.shape == out.shape and p.layout == out.layout:
        return "i"
    return p.offset(names, out.shape)


def epilogue_launch(ctx: CompileContext, name: str, code: EpilogueCode, start: tuple[str, Placement],
                    operands: dict[int, tuple[str, Placement]], out: tuple[str, Placement],
                    axis: int | None, start_coords=None, step: Step | None = None,
                    start_follows_channels: bool = False) -> Launch:
    """A launch computing ``out = store(EPI(float(start)))`` elementwise (start and operands broadcast).

    ``start_coords(names)``, when given, maps the output's coordinate names to the C
    expressions of the start tensor's coordinates (a gather instead of a broadcast);
    ``start_follows_channels``: the next output channel reads the next start element.
    ``step`` (whose epilogue ``code`` is) allows the vector kernels where they apply.
    """
    if step is not None and (start_coords is None or start_follows_channels):
        launch = (channel_vector_launch(ctx, name, step, start, operands, out, axis, start_coords)
                  or (to_nhwc_launch(ctx, name, step, start, operands, out, axis) if start_coords is None else None))
        if launch is not None:
            return launch
    out_name, out_p = out
    body, skip, names = coords_macro(out_p)
    start_name, start_p = start
    src_off = start_p.offset(start_coords(names)) if start_coords else _offset(start_p, names, out_p)
    values = {k: f"(float)in{k}[{_offset(p, names, out_p)}]" for k, (_, p) in operands.items()}
    channel = names[axis] if axis is not None else "0"
    defines = {
        "OUT_T": out_p.cl_type, "SRC_T": start_p.cl_type, "COUNT": out_p.physical_size,
        "COORDS(IDX)": body, "SKIP": f"({skip})", "SRC_OFF": src_off,
        "EPI(y)": code.call("y", channel, "k", values),
        "STORE(y)": store_expr(out_p.dtype, "y", program=step.epilogue if step is not None else None),
        "EXTRA_ARGS": extra_args(code, {k: p for k, (_, p) in operands.items()}),
    }
    refs = ctx.builder.instance(kernel_source("plan_eltwise.cl"), defines, prelude=code.source)
    gsize, lsize = wide_1d(ctx, out_p.physical_size)
    args = [("t", out_name), ("t", start_name), ("b", ctx.epilogue_buffer(code))]
    args += [("t", operands[k][0]) for k in code.inputs]
    return Launch(refs["eltwise"], args, gsize, lsize, name)


def to_nhwc_launch(ctx: CompileContext, name: str, step: Step, start: tuple[str, Placement],
                   operands: dict, out: tuple[str, Placement], axis: int | None) -> Launch | None:
    """``cl_kernels/plan_eltwise_to_nhwc.cl`` where it applies: a CPU device (16 pixels at a time
    on Intel's runtime, 8 on PoCL: det's 640x640 input 1.66 -> 1.02 ms there), a plain NCHW start
    and an NHWC output of the same shape with W a multiple of 8 and fewer than 8 channels, no
    operands, no per-channel constants; else None."""
    (out_name, out_p), (start_name, start_p) = out, start
    if (ctx.device.info.is_gpu or out_p.layout != "nhwc" or start_p.layout != "plain"
            or start_p.shape != out_p.shape or operands or axis is not None or out_p.shape[3] % 8
            or out_p.shape[1] >= 8):
        return None
    n, c, h, w = out_p.shape
    px = 16 if w % 16 == 0 and ctx.device.info.vector_width == 16 else 8
    code = step_epilogue(step, out_p, f"ev{px}", width=px)
    defines = {"OUT_T": out_p.cl_type, "SRC_T": start_p.cl_type, "N": n, "C": c, "H": h, "W": w, "PX": px,
               "EPIV(y)": code.call("y", "c", "k", {}), "STOREV(y)": store_expr(out_p.dtype, "y", px, step.epilogue)}
    if px == 16:
        defines["INTERLEAVE(q,dst)"] = _interleave(c)
    refs = ctx.builder.instance(kernel_source("plan_eltwise_to_nhwc.cl"), defines, prelude=code.source,
                                options=ctx.device.info.cl_std_option, group="eltwise8")
    gsize, lsize = wide_1d(ctx, n * h * (w // px))
    return Launch(refs["eltwise_to_nhwc"], [("t", out_name), ("t", start_name), ("b", ctx.epilogue_buffer(code))],
                  gsize, lsize, name)


def _interleave(c: int) -> str:
    """C statements storing 16 pixels x ``c`` channels (``q[ch]``, 16 lanes each) as ``c`` vectors of
    16 bytes at ``dst``: output byte j is pixel j // c, channel j % c.  Each vector takes channels 0
    and 1 with one shuffle2, then one more shuffle2 per further channel (keeping the other lanes)."""
    if c == 1:
        return "vstore16(q[0], 0, dst)"

    def mask(values) -> str:
        return "(uchar16)(" + ", ".join(str(v) for v in values) + ")"

    stmts = []
    for vec in range(c):
        pixel = [(16 * vec + t) // c for t in range(16)]
        channel = [(16 * vec + t) % c for t in range(16)]
        first = [p if ch == 0 else 16 + p if ch == 1 else 0 for p, ch in zip(pixel, channel)]
        expr = f"shuffle2(q[0], q[1], {mask(first)})"
        for extra in range(2, c):
            keep = [16 + p if ch == extra else t for t, (p, ch) in enumerate(zip(pixel, channel))]
            expr = f"shuffle2({expr}, q[{extra}], {mask(keep)})"
        stmts.append(f"vstore16({expr}, {vec}, dst)")
    return "do { " + "; ".join(stmts) + "; } while (0)"


@dataclass
class GatePrologue:
    """``SE_GATE`` of ``plan_eltwise8.cl``: operand ``operand`` is the gate the kernel computes
    first into local memory, with these instance macros and prelude source, from tensor ``tensor``
    and the constants ``consts`` (uploaded once the launch is certain), in ``groups`` work-groups
    (each computing it)."""

    operand: int
    defines: dict
    prelude: str
    tensor: str
    consts: np.ndarray
    groups: int


def channel_vector_launch(ctx: CompileContext, name: str, step: Step, start: tuple[str, Placement],
                          operands: dict[int, tuple[str, Placement]], out: tuple[str, Placement],
                          axis: int | None, start_coords=None, copy: tuple[str, int] | None = None,
                          gate=None) -> Launch | None:
    """``cl_kernels/plan_eltwise8.cl`` where it applies: a CPU device, an NHWC output with C a
    multiple of 8 (16 at a time on Intel's runtime where C is a multiple of 16; PoCL, 8 at a time,
    runs det's elementwise steps in 5.8 ms where the per-element kernel took 23), the start
    tensor stored like it (or gathered, with consecutive channels reading consecutive
    elements), operands stored like it or per channel, per-channel constants along the
    channels; else None.  ``copy`` = (an NHWC tensor of more channels, a channel offset): the
    start's raw values are stored there too, from that channel on (start not gathered).
    ``gate(vw)``, where given, returns the :class:`GatePrologue` of a launch VW channels wide,
    or None where the kernel cannot compute the gate (then so is the launch)."""
    (out_name, out_p), (start_name, start_p) = out, start
    info = ctx.device.info
    if info.is_gpu or out_p.layout != "nhwc" or out_p.shape[1] % 8 or axis not in (None, 1):
        return None
    coords, start_off = "(void)0;", "i"
    if start_coords is not None and start_p.layout == "nhwc":
        names = ["g_n", "g_c", "g_h", "g_w"]
        stmts, _ = out_p.decompose("i", names)
        coords, start_off = " ".join(stmts), start_p.offset(start_coords(names))
    elif start_p.shape != out_p.shape or start_p.layout != out_p.layout:
        return None
    if copy is not None and (start_coords is not None or not _copy_fits(start_p, ctx.placement(copy[0]), copy[1])):
        return None
    n, channels, h, w = out_p.shape
    vw = 16 if channels % 16 == 0 and info.vector_width == 16 else 8
    prologue = gate(vw) if gate is not None else None
    if gate is not None and prologue is None:
        return None
    values = {}
    for k, (_, p) in operands.items():
        if prologue is not None and k == prologue.operand:
            values[k] = f"convert_float{vw}(vload{vw}(0, gate + c))"
        elif p.shape == out_p.shape and p.layout == out_p.layout:
            values[k] = f"convert_float{vw}(vload{vw}(0, in{k} + i))"
        elif tuple(p.shape[1:]) == (channels, 1, 1) and p.shape[0] in (1, n) and p.layout in ("nhwc", "plain"):
            # per image and channel: [N or 1][C]
            image = "0" if p.shape[0] == 1 else f"(int){udiv_expr('(uint)i', h * w * channels, out_p.size)}"
            values[k] = f"convert_float{vw}(vload{vw}(0, in{k} + {image} * {channels} + c))"
        else:
            return None
    code = step_epilogue(step, out_p, f"ev{vw}", width=vw)
    defines = {
        "OUT_T": out_p.cl_type, "SRC_T": start_p.cl_type, "VW": vw, "COUNT": out_p.physical_size,
        "CHANNEL(IDX)": f"(int)((uint)(IDX) - {udiv_expr('(uint)(IDX)', channels, out_p.physical_size)} * {channels}u)",
        "START_COORDS(i)": coords, "START_OFF": start_off,
        "EPIW(y)": code.call("y", "c", "k", values), "STOREW(y)": store_expr(out_p.dtype, "y", vw, step.epilogue),
        "EXTRA_ARGS": extra_args(code, {k: p for k, (_, p) in operands.items()},
                                 skip=prologue.operand if prologue else None),
    }
    if copy is not None:  # pixel i / C of the copy, its channels from the offset on
        pixel = udiv_expr("(uint)(IDX)", channels, out_p.physical_size)
        defines["COPY_AT(IDX,C)"] = f"((size_t){pixel} * {ctx.placement(copy[0]).shape[1]} + {copy[1]} + (C))"
    defines.update({"PER": VECTORS_PER_ITEM, "CHANNELS": channels})
    items = -(-out_p.physical_size // vw // VECTORS_PER_ITEM)
    if prologue is not None:
        defines.update({"SE_GATE": 1, **prologue.defines})
        local = -(-items // prologue.groups)
        if local > info.max_work_group_size:
            return None
        gsize, lsize = (local * prologue.groups,), (local,)
    else:
        gsize, lsize = wide_1d(ctx, items)
    refs = ctx.builder.instance(kernel_source("plan_eltwise8.cl"), defines,
                                prelude=code.source + (prologue.prelude if prologue else ""),
                                options=info.cl_std_option, group="eltwise8")
    args = [("t", out_name), ("t", start_name), ("b", ctx.epilogue_buffer(code))]
    args += [("t", operands[k][0]) for k in code.inputs if prologue is None or k != prologue.operand]
    args += [("t", copy[0])] if copy is not None else []
    args += [("t", prologue.tensor), ("b", ctx.const(prologue.consts))] if prologue is not None else []
    return Launch(refs["eltwise8"], args, gsize, lsize, name)


def _copy_fits(start: Placement, target: Placement, offset: int) -> bool:
    """Whether ``start``'s values fit at channel ``offset`` of ``target`` (NHWC, same type, pixels)."""
    return (start.layout == target.layout == "nhwc" and start.dtype == target.dtype
            and start.shape[0] == target.shape[0] and start.shape[2:] == target.shape[2:]
            and 0 <= offset and offset + start.shape[1] <= target.shape[1])


def compile_eltwise(ctx: CompileContext, step: Step) -> StepPlan:
    """quantize / requantize / dequantize / elementwise: the epilogue on y = float(input 0)."""
    out = step.outputs[0]
    out_p = ctx.placement(out)
    code = step_epilogue(step, out_p)
    operands = {k: (step.inputs[k], ctx.placement(step.inputs[k])) for k in code.inputs}
    launch = epilogue_launch(ctx, "eltwise", code, (step.inputs[0], ctx.placement(step.inputs[0])), operands,
                             (out, out_p), step.axis, step=step)
    return StepPlan(step, "eltwise", "opencl", [launch])


#: float ops that run as the epilogue kernel: op type -> (activation kind, params from attrs)
_FLOAT_ACTIVATIONS = {
    "Relu": lambda a: ("relu", {}),
    "Clamp": lambda a: ("clamp", {"min": float(a["min"]), "max": float(a["max"])}),
    "HSwish": lambda a: ("hswish", {}),
    "HSigmoid": lambda a: ("hsigmoid", {}),
    "Sigmoid": lambda a: ("sigmoid", {}),
    "Tanh": lambda a: ("tanh", {}),
    "Mish": lambda a: ("mish", {}),
    "SoftPlus": lambda a: ("softplus", {}),
    "Elu": lambda a: ("elu", {"alpha": float(a["alpha"])}),
}
_FLOAT_BINARY = {"Add": ("add", 1.0), "Subtract": ("add", -1.0), "Multiply": ("mul", 1.0)}


def float_elementwise(ctx: CompileContext, step: Step) -> StepPlan | None:
    """A float activation or Add/Subtract/Multiply of f32 tensors as a kernel, or None."""
    op, attrs, args = step.op_type, step.attrs.get("op_attrs", {}), step.attrs["args"]
    out = step.outputs[0]
    out_p = ctx.placement(out)
    if out_p.dtype != "f32" or len(step.outputs) != 1 or any(a is None or a[0] != "t" for a in args):
        return None
    names = [a[1] for a in args]
    if any(ctx.placement(n).dtype != "f32" for n in names):
        return None
    consts = {"one": np.ones(1, np.float32), "zero": np.zeros(1, np.float32), "neg": -np.ones(1, np.float32)}
    if op in _FLOAT_ACTIVATIONS and len(names) == 1:
        kind, params = _FLOAT_ACTIVATIONS[op](attrs)
        program = [("act", kind, params)]
        operands = {}
    elif op in _FLOAT_BINARY and len(names) == 2:
        instr, sign = _FLOAT_BINARY[op]
        program = [(instr, 1, "one" if sign > 0 else "neg", "zero")]
        operands = {1: (names[1], ctx.placement(names[1]))}
    else:
        return None
    shape = out_p.shape
    if tuple(np.broadcast_shapes(*(ctx.placement(n).shape for n in names))) != tuple(shape):
        return None
    code = epilogue_function(f"fl_{op.lower()}", program, consts, len(names), None)
    launch = epilogue_launch(ctx, f"eltwise_{op.lower()}", code, (names[0], ctx.placement(names[0])), operands,
                             (out, out_p), None)
    return StepPlan(step, f"eltwise_{op.lower()}", "opencl", [launch])
