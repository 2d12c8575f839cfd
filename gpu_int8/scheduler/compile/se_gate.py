"""A squeeze-and-excitation gate as one kernel (``cl_kernels/plan_se_gate.cl``).

MobileNetV3-style blocks (PP-OCR cls, PP-OCRv4 det's and rec's) compute a per-channel gate:
a global average pool, a 1x1 convolution to a quarter of the channels, another back, then
multiply the tensor by it.  On 1x1 pixels the two convolutions are a few thousand
multiply-adds; as kernels of their own each cost more to launch than to run (PP-OCR cls:
ten gates, 30 of its 76 launches).  One work-group per image now takes the mean and both
convolutions.

Where the tensor is small and the multiply by the gate follows, that is in the same launch
too: the multiply's vector kernel (``plan_eltwise8.cl``) in one work-group a compute unit,
each first computing the gate into local memory (``se_gate_vec.cl``: a gate is a few
microseconds, a launch as many; PP-OCR cls: nine gates, 18 of its 58 launches).  Where that
kernel does not apply, the group launches the gate into a tensor of its own, then the multiply.

A gate is consecutive steps: a ``reduce_mean`` over the pixels of a 4-D tensor (kept in the
group where the tensor is small: one work-group sums it; else it keeps its own, wider
kernel and the group reads its output), then two single-input 1x1 ``conv`` steps on 1x1
pixels, each intermediate read by the next step only and not a model output; with a small
tensor of one image, also the ``requantize`` step after them that multiplies the mean's input
by the gate, where it is the gate's only reader.  Plans built with ``keep_all`` keep the steps
apart.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.actions import Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, step_epilogue, store_expr
from gpu_int8.scheduler.compile.eltwise import GatePrologue, channel_vector_launch, epilogue_launch
from gpu_int8.scheduler.compile.move_chain import grouped_step, read_once
from gpu_int8.scheduler.const_pack import offset_macros, pack_constants
from gpu_int8.scheduler.program_cache import kernel_source

#: a ReduceMean over at most this many elements joins its gate's kernel (one work-group, one
#: core, sums them); larger ones keep their kernel, which spreads channels over the cores
#: (PP-OCRv4 det's 96 x 160 x 160 mean: 0.1 ms)
MEAN_IN_GATE_MAX = 1 << 16

#: work-items of the gate's work-group
LOCAL = 64

#: work-groups a compute unit of a gate's multiply, each computing the gate first (one a unit:
#: PP-OCR cls 1.015x faster than one group in all, 1.048x faster than two a unit)
GATE_GROUPS_PER_UNIT = 1


def _pointwise_on_one_pixel(step: Step, schedule: Schedule) -> bool:
    """A single-input 1x1 convolution in one group whose output has 1x1 pixels."""
    if step.kind != "conv" or len(step.inputs) != 1 or len(step.outputs) != 1:
        return False
    w = step.consts.get("w")
    out = schedule.tensors[step.outputs[0]].shape
    return (w is not None and w.ndim == 5 and w.shape[0] == 1 and w.shape[3:] == (1, 1)
            and len(out) == 4 and tuple(out[2:]) == (1, 1) and step.axis in (None, 1))


def _is_pixel_mean(step: Step, schedule: Schedule) -> bool:
    """A ReduceMean over the pixels of a 4-D tensor, keeping its axes."""
    if step.kind != "reduce_mean" or len(step.inputs) != 1:
        return False
    rank = len(schedule.tensors[step.inputs[0]].shape)
    return rank == 4 and {int(a) % rank for a in step.attrs["axes"]} == {2, 3} and bool(step.attrs["keep_dims"]) \
        and step.axis in (None, 1)


def se_gates(schedule: Schedule) -> dict[int, list[int]]:
    """Gates by the index of their first step: [mean, conv, conv], or [conv, conv] where the mean
    is large (:data:`MEAN_IN_GATE_MAX`)."""
    only_next = read_once(schedule)
    steps, gates = schedule.steps, {}
    for i in range(1, len(steps) - 1):
        mean, a, b = steps[i - 1], steps[i], steps[i + 1]
        if not (_is_pixel_mean(mean, schedule) and _pointwise_on_one_pixel(a, schedule)
                and _pointwise_on_one_pixel(b, schedule) and a.inputs == mean.outputs and b.inputs == a.outputs
                and only_next(a.outputs[0])):
            continue
        x = schedule.tensors[mean.inputs[0]].shape
        small = int(np.prod(x[1:])) <= MEAN_IN_GATE_MAX and only_next(mean.outputs[0])
        members = [i - 1, i, i + 1] if small else [i, i + 1]
        if small and x[0] == 1 and i + 2 < len(steps) and only_next(b.outputs[0]) \
                and _multiplies_by(steps[i + 2], mean.inputs[0], b.outputs[0]):
            members.append(i + 2)
        gates[members[0]] = members
    return gates


def _multiplies_by(step: Step, x: str, gate: str) -> bool:
    """A requantization of ``x`` whose program multiplies it by ``gate`` (its input 1)."""
    return step.kind == "requantize" and step.inputs == [x, gate] and len(step.outputs) == 1 \
        and any(ins[0] == "mul" and ins[1] == 1 for ins in step.epilogue)


def compile_se_gate(ctx: CompileContext, steps: list[Step]) -> StepPlan | None:
    """The group's launch, or None where a tensor is not stored as the kernels read it."""
    mul = steps[-1] if steps[-1].kind == "requantize" else None
    if mul is None:
        launch = _gate_launch(ctx, steps, steps[-1].outputs[0])
        return StepPlan(grouped_step(steps), "se_gate", "opencl", [launch]) if launch else None
    gate, (x_name, gate_name), y_name = steps[:-1], mul.inputs, mul.outputs[0]
    x_p, y_p = ctx.placement(x_name), ctx.placement(y_name)
    step = grouped_step(steps)  # reads the mean's input, the tensor it multiplies
    code = step_epilogue(mul, y_p)
    operands = {k: (mul.inputs[k], ctx.placement(mul.inputs[k])) for k in code.inputs}
    fused = channel_vector_launch(ctx, "se_gate", mul, (x_name, x_p), operands, (y_name, y_p), mul.axis,
                                  gate=lambda vw: _prologue(ctx, gate, vw))
    if fused is not None:
        return StepPlan(step, "se_gate", "opencl", [fused])
    # the gate into a tensor of the step's own, then the multiply
    scratch = ctx.add_scratch(f"{mul.name}/gate", ctx.placement(gate_name))
    launch = _gate_launch(ctx, gate, scratch)
    if launch is None:
        del ctx.scratch[scratch], ctx.placements[scratch]
        return None
    operands = {k: (scratch if k == 1 else name, p) for k, (name, p) in operands.items()}
    multiply = epilogue_launch(ctx, "eltwise", code, (x_name, x_p), operands, (y_name, y_p), mul.axis, step=mul)
    return StepPlan(step, "se_gate+eltwise", "opencl", [launch, multiply])


def _prologue(ctx: CompileContext, gate: list[Step], vw: int) -> GatePrologue | None:
    """``se_gate_vec.cl``'s gate of the steps ``gate`` (mean, conv, conv) for a launch ``vw``
    channels wide, or None where the tensors are not stored as it reads them."""
    mean, a, b = gate
    x_name, m_name, g_name = mean.inputs[0], a.inputs[0], b.outputs[0]
    x_p, m_p, a_p, g_p = (ctx.placement(t) for t in (x_name, m_name, a.outputs[0], g_name))
    c, ca = m_p.shape[1], a_p.shape[1]
    if x_p.layout != "nhwc" or x_p.shape[0] != 1 or c % vw \
            or any(p.dtype not in ("u8", "i8") for p in (x_p, m_p, a_p, g_p)):
        return None
    ca_p = -(-ca // vw) * vw  # a's channels padded to whole vectors, their weights zero
    codes = {"r": step_epilogue(mean, m_p, f"sgr{vw}", width=vw),
             "a": step_epilogue(a, a_p, f"sga{vw}", width=vw), "b": step_epilogue(b, g_p, f"sgb{vw}", width=vw)}
    if any(code.inputs for code in codes.values()):
        return None
    wa, wb = np.zeros((c, ca_p), np.int8), np.zeros((ca_p, c), np.int8)
    wa[:, :ca], wb[:ca] = _lanes(a), _lanes(b)
    comp_a = np.zeros(ca_p, np.int32)
    comp_a[:ca] = _comp(a, ca)
    parts = {"GWA": wa, "GCOMP_A": comp_a, "GWB": wb, "GCOMP_B": _comp(b, c)}
    # each epilogue's constants padded by a vector: a's lanes past its channels read on
    parts.update({f"GK{key.upper()}": np.concatenate([code.consts.astype(np.float32), np.zeros(vw, np.float32)])
                  for key, code in codes.items()})
    packed, offsets = pack_constants(parts)
    h, w = x_p.shape[2:]
    defines = {"G_X_T": x_p.cl_type, "G_T": g_p.cl_type, "G_C": c, "G_CA": ca_p, "G_HW": h * w,
               "G_EPI_R(v,c)": codes["r"].call("(v)", _channel(mean, "(c)"), "kr", {}),
               "G_STORE_R(v)": store_expr(m_p.dtype, "(v)", vw, mean.epilogue),
               "G_EPI_A(v,j)": codes["a"].call("(v)", _channel(a, "(j)"), "ka", {}),
               "G_STORE_A(v)": store_expr(a_p.dtype, "(v)", vw, a.epilogue),
               "G_EPI_B(v,c)": codes["b"].call("(v)", _channel(b, "(c)"), "kb", {}),
               "G_STORE_B(v)": store_expr(g_p.dtype, "(v)", vw, b.epilogue), **offset_macros(offsets)}
    groups = max(1, ctx.device.info.compute_units * GATE_GROUPS_PER_UNIT)
    return GatePrologue(1, defines, "".join(code.source for code in codes.values()), x_name, packed, groups)


def _gate_launch(ctx: CompileContext, steps: list[Step], y_name: str) -> Launch | None:
    """The gate's one launch (``plan_se_gate.cl``) storing it into ``y_name``, or None where a
    tensor is not stored as the kernel reads it."""
    mean = steps[0] if len(steps) == 3 else None
    a, b = steps[-2], steps[-1]
    x_name, m_name = steps[0].inputs[0], a.inputs[0]
    x_p, m_p, a_p, y_p = (ctx.placement(t) for t in (x_name, m_name, a.outputs[0], y_name))
    n, c = m_p.shape[:2]
    ca = a_p.shape[1]
    # the gate is stored whole, with no padding channels (fsv16 of a multiple of 16)
    if any(p.dtype not in ("u8", "i8") for p in (x_p, m_p, a_p)) or y_p.dtype not in ("u8", "i8", "f32") \
            or y_p.physical_size != n * c:
        return None
    codes = {"a": step_epilogue(a, a_p, "sea"), "b": step_epilogue(b, y_p, "seb")}
    macros = {"X_T": x_p.cl_type, "M_T": m_p.cl_type, "A_T": a_p.cl_type, "Y_T": y_p.cl_type, "C": c, "CA": ca,
              "MEAN": int(mean is not None), "M_OFF(n,c)": m_p.offset(["n", "c", "0", "0"]),
              "Y_OFF(n,c)": y_p.offset(["n", "c", "0", "0"]),
              "EPI_A(v,j)": codes["a"].call("(v)", _channel(a, "(j)"), "ka", {}),
              "STORE_A(v)": store_expr(a_p.dtype, "(v)", program=a.epilogue),
              "EPI_B(v,c)": codes["b"].call("(v)", _channel(b, "(c)"), "kb", {}),
              "STORE_B(v)": store_expr(y_p.dtype, "(v)", program=b.epilogue)}
    if mean is not None:
        codes["r"] = step_epilogue(mean, m_p, "ser")
        h, w = x_p.shape[2:]
        macros.update({"HW": h * w, "X_OFF(n,c,p)": x_p.offset(["n", "c", f"(p) / {w}", f"(p) % {w}"]),
                       "EPI_R(v,c)": codes["r"].call("(v)", _channel(mean, "(c)"), "kr", {}),
                       "STORE_R(v)": store_expr(m_p.dtype, "(v)", program=mean.epilogue)})
    if any(code.inputs for code in codes.values()):
        return None
    # every constant in one buffer (scheduler/const_pack.py): one lookup when it is enqueued
    parts = {"WA": _lanes(a), "COMP_A": _comp(a, ca), "WB": _lanes(b), "COMP_B": _comp(b, c)}
    parts.update({f"K{key.upper()}": code.consts.astype(np.float32) for key, code in codes.items()})
    packed, offsets = pack_constants(parts)
    macros.update(offset_macros(offsets))
    prelude = "".join(code.source for code in codes.values())
    kernel = ctx.builder.instance(kernel_source("plan_se_gate.cl"), macros, prelude=prelude)["se_gate"]
    return Launch(kernel, [("t", y_name), ("t", x_name), ("b", ctx.const(packed))], (n * LOCAL,), (LOCAL,),
                  "se_gate")


def _lanes(step: Step) -> np.ndarray:
    """A 1x1 convolution's int8 weights transposed: [input channel][output channel]."""
    w = step.consts["w"]
    return np.ascontiguousarray(w.reshape(w.shape[1:3]).T.astype(np.int8))


def _channel(step: Step, c: str) -> str:
    """The index of a step's epilogue constants for channel ``c`` (0 where they are per tensor)."""
    return "0" if step.axis is None else c


def _comp(step: Step, channels: int) -> np.ndarray:
    comp = np.asarray(step.consts.get("comp", np.zeros(1, np.int32)), np.int32).reshape(-1)
    return np.broadcast_to(comp, (channels,)).astype(np.int32) if comp.size == 1 else comp
