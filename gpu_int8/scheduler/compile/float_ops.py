"""Float steps: Softmax and elementwise activations / add / multiply as kernels;
anything else runs the op's NumPy reference on the host between kernels."""

from __future__ import annotations

from gpu_int8.reference.int8_executor import run_step
from gpu_int8.schedule import Step
from gpu_int8.scheduler.compile.actions import HostCall, Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, global_1d
from gpu_int8.scheduler.compile.eltwise import float_elementwise
from gpu_int8.scheduler.program_cache import kernel_source


def compile_softmax(ctx: CompileContext, step: Step) -> StepPlan | None:
    args = step.attrs["args"]
    if len(args) != 1 or args[0] is None or args[0][0] != "t" or len(step.outputs) != 1:
        return None
    x_name, y_name = args[0][1], step.outputs[0]
    x_p, y_p = ctx.placement(x_name), ctx.placement(y_name)
    if x_p.dtype != "f32" or y_p.dtype != "f32" or x_p.layout != "plain" or y_p.shape != x_p.shape:
        return None
    rank = len(x_p.shape)
    axis = int(step.attrs.get("op_attrs", {}).get("axis", 1))
    if not -rank <= axis < rank:
        return None
    axis %= rank
    inner = 1
    for d in x_p.shape[axis + 1:]:
        inner *= d
    length = x_p.shape[axis]
    rows = x_p.size // max(length, 1)
    refs = ctx.builder.instance(kernel_source("plan_softmax.cl"), {"ROWS": rows, "AXIS_LEN": length, "INNER": inner})
    gsize, lsize = global_1d(rows, 16)
    return StepPlan(step, "softmax", "opencl", [Launch(refs["softmax"], [("t", y_name), ("t", x_name)], gsize,
                                                       lsize, "softmax")])


def compile_float(ctx: CompileContext, step: Step) -> StepPlan | None:
    if step.op_type in ("Softmax", "SoftMax"):
        return compile_softmax(ctx, step)
    return float_elementwise(ctx, step)


def host_step(ctx: CompileContext, step: Step, note: str) -> StepPlan:
    """The step computed by the reference executor's code on the host (exact integer semantics)."""
    tensors = [ctx.schedule.tensors[name] for name in step.outputs]

    def run(inputs, step=step, tensors=tensors):
        return run_step(step, inputs, tensors)

    return StepPlan(step, "host", "host", [HostCall(run, list(step.inputs), list(step.outputs),
                                                    f"host:{step.op_type or step.kind}")], note=note)
