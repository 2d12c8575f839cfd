"""A squeeze-and-excitation gate as one kernel (``cl_kernels/plan_se_gate.cl``).

MobileNetV3-style blocks (PP-OCR cls, PP-OCRv4 det's and rec's) compute a per-channel gate:
a global average pool, a 1x1 convolution to a quarter of the channels, another back, then
multiply the tensor by it.  On 1x1 pixels the two convolutions are a few thousand
multiply-adds; as kernels of their own each cost more to launch than to run (PP-OCR cls:
ten gates, 30 of its 76 launches).  One work-group per image now takes the mean and both
convolutions; the multiply stays an elementwise step.

A gate is consecutive steps: a ``reduce_mean`` over the pixels of a 4-D tensor (kept in the
group where the tensor is small: one work-group sums it; else it keeps its own, wider
kernel and the group reads its output), then two single-input 1x1 ``conv`` steps on 1x1
pixels, each intermediate read by the next step only and not a model output.  Plans built
with ``keep_all`` keep the steps apart.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.actions import Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, step_epilogue, store_expr
from gpu_int8.scheduler.compile.move_chain import grouped_step, read_once
from gpu_int8.scheduler.const_pack import offset_macros, pack_constants
from gpu_int8.scheduler.program_cache import kernel_source

#: a ReduceMean over at most this many elements joins its gate's kernel (one work-group, one
#: core, sums them); larger ones keep their kernel, which spreads channels over the cores
#: (PP-OCRv4 det's 96 x 160 x 160 mean: 0.1 ms)
MEAN_IN_GATE_MAX = 1 << 16

#: work-items of the gate's work-group
LOCAL = 64


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
        gates[i - 1 if small else i] = [i - 1, i, i + 1] if small else [i, i + 1]
    return gates


def compile_se_gate(ctx: CompileContext, steps: list[Step]) -> StepPlan | None:
    """The gate's one launch, or None where a tensor is not stored as the kernel reads it."""
    mean = steps[0] if len(steps) == 3 else None
    a, b = steps[-2], steps[-1]
    x_name, m_name, y_name = steps[0].inputs[0], a.inputs[0], b.outputs[0]
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
    launch = Launch(kernel, [("t", y_name), ("t", x_name), ("b", ctx.const(packed))], (n * LOCAL,), (LOCAL,),
                    "se_gate")
    return StepPlan(grouped_step(steps), "se_gate", "opencl", [launch])


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
