"""Step compilers: each turns one schedule step into kernel launches (or a host call).

:func:`compile_step` dispatches on the step kind; a compiler returns None when
it has no kernel for the step's shape or layout, and the step then runs on the
host (marked ``host`` in the plan and its profile).
"""

from __future__ import annotations

from gpu_int8.schedule import Step
from gpu_int8.schedule.schedule import DATA_MOVEMENT
from gpu_int8.scheduler.compile.actions import CallLaunch, HostCall, Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext
from gpu_int8.scheduler.compile.conv import compile_conv, compile_deconv
from gpu_int8.scheduler.compile.eltwise import compile_eltwise
from gpu_int8.scheduler.compile.float_ops import compile_float, host_step
from gpu_int8.scheduler.compile.matmul import compile_matmul
from gpu_int8.scheduler.compile.move import compile_move
from gpu_int8.scheduler.compile.pool import compile_avg_pool, compile_max_pool, compile_reduce_mean

__all__ = ["CallLaunch", "CompileContext", "HostCall", "Launch", "StepPlan", "compile_step"]

_BY_KIND = {
    "conv": compile_conv,
    "deconv": compile_deconv,
    "matmul": compile_matmul,
    "avg_pool": compile_avg_pool,
    "reduce_mean": compile_reduce_mean,
    "quantize": compile_eltwise,
    "requantize": compile_eltwise,
    "dequantize": compile_eltwise,
    "elementwise": compile_eltwise,
}


def compile_step(ctx: CompileContext, step: Step) -> StepPlan:
    """The plan of one step: kernels where a compiler handles it, the host otherwise."""
    if step.kind == "move" and step.op_type == "MaxPool":
        plan = compile_max_pool(ctx, step)
    elif step.kind in _BY_KIND:
        plan = _BY_KIND[step.kind](ctx, step)
    elif step.kind == "move":
        plan = compile_move(ctx, step)
    else:  # float
        plan = compile_float(ctx, step)
        if plan is None and step.op_type in DATA_MOVEMENT:
            plan = compile_move(ctx, step)
    if plan is None:
        what = step.op_type or step.kind
        return host_step(ctx, step, f"no OpenCL kernel for this {what} step")
    return plan
