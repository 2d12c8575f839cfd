"""A float layer between int8 layers, with the quantization after it (and the dequantization
before it), as one kernel.

GoogLeNet, AlexNet and ZFNet run LRN in float between int8 layers, PP-OCRv4 rec its layer
norms (MVN): dequantize (or a layer storing float), the float op, quantize, each storing
its tensor, the float ones four bytes an element.  One kernel now reads the int8 (or
float) input, takes the op and stores the next layer's integers: LRN in
``cl_kernels/plan_lrn_q.cl`` (``compile/lrn_group.py``), MVN in ``plan_mvn.cl`` with its
loads and stores replaced.

A group is consecutive steps: an optional ``dequantize`` of one int8 tensor, the float op,
a ``quantize`` of its output; every intermediate read by the next step only and not a
model output.  LRN: over the channels of a 4-D tensor, quantized by a monotonic program
(affine, relu / clamp, round), per tensor or per channel.  MVN: over trailing axes of a
plain tensor, quantized and dequantized per tensor or along the last axis (rec's layer
norms fold their scale into the quantization).  Plans built with ``keep_all`` keep
the steps apart.
"""

from __future__ import annotations

from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.actions import Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, step_epilogue, store_expr
from gpu_int8.scheduler.compile.float_ops import mvn_launch, mvn_setup
from gpu_int8.scheduler.compile.lrn_group import compile_lrn_group, lrn_fits
from gpu_int8.scheduler.compile.move_chain import grouped_step, read_once
from gpu_int8.scheduler.program_cache import kernel_source


def _fits(op: Step, quant: Step, deq: Step | None, schedule: Schedule) -> bool:
    """Whether the float op, its quantization and dequantization (or None) make a group."""
    if op.op_type == "LRN":
        return lrn_fits(op, quant, deq, schedule)
    if op.op_type == "MVN":  # per tensor, or per element of the last axis (a layer norm's scale folded in)
        last = len(schedule.tensors[quant.outputs[0]].shape) - 1
        return quant.axis in (None, last) and (deq is None or deq.axis in (None, last))
    return False


def float_groups(schedule: Schedule) -> dict[int, list[int]]:
    """Groups by the index of their first step."""
    only_next = read_once(schedule)
    steps, groups = schedule.steps, {}
    for i in range(len(steps) - 1):
        op, quant = steps[i], steps[i + 1]
        args = op.attrs.get("args") or [None]
        if op.kind != "float" or len(op.outputs) != 1 or not only_next(op.outputs[0]) or args[0] is None \
                or args[0][0] != "t" or quant.kind != "quantize" or quant.inputs != op.outputs \
                or len(quant.outputs) != 1:
            continue
        deq = steps[i - 1] if i > 0 else None
        if deq is None or deq.kind != "dequantize" or len(deq.inputs) != 1 or deq.outputs != [args[0][1]] \
                or not only_next(deq.outputs[0]):
            deq = None
        if _fits(op, quant, deq, schedule):
            groups[i - 1 if deq else i] = list(range(i - 1 if deq else i, i + 2))
    return groups


def compile_float_group(ctx: CompileContext, steps: list[Step]) -> StepPlan | None:
    """The group's one launch, or None where its kernel does not apply."""
    compile_group = compile_lrn_group if steps[-2].op_type == "LRN" else _compile_mvn_group
    launch = compile_group(ctx, steps)
    return None if launch is None else StepPlan(grouped_step(steps), launch.name, "opencl", [launch])


def _compile_mvn_group(ctx: CompileContext, steps: list[Step]) -> Launch | None:
    deq = steps[0] if len(steps) == 3 else None
    op, quant = steps[-2], steps[-1]
    x_name, y_name = steps[0].inputs[0], quant.outputs[0]
    x_p, y_p, mid_p = ctx.placement(x_name), ctx.placement(y_name), ctx.placement(op.inputs[0])
    setup = mvn_setup(ctx, op)
    if setup is None or x_p.layout != "plain" or y_p.layout != "plain" or y_p.shape != x_p.shape \
            or x_p.dtype not in ("u8", "i8", "f32") or y_p.dtype not in ("u8", "i8"):
        return None
    macros, rows, group = setup
    last = y_p.shape[-1]
    if macros["LEN"] % last:  # the last axis is not among the normalized ones: j is no channel
        return None

    def channel(step: Step) -> str:  # of row element j (the rows start at multiples of LEN)
        return "0" if step.axis is None else f"((j) % {last})"

    quant_code = step_epilogue(quant, y_p, "mq")
    macros.update({"X_T": x_p.cl_type, "Y_T": y_p.cl_type,
                   "STORE_Y(v,j)": store_expr(y_p.dtype, quant_code.call("(v)", channel(quant), "kq", {}),
                                              program=quant.epilogue),
                   "GROUP_ARGS": ", __global const float *kd, __global const float *kq"})
    prelude, buffers = quant_code.source, [("b", ctx.epilogue_buffer(quant_code))]
    if deq is not None:
        deq_code = step_epilogue(deq, mid_p, "md")
        macros["LOAD(v,j)"] = deq_code.call("(v)", channel(deq), "kd", {})
        prelude = deq_code.source + prelude
        buffers.insert(0, ("b", ctx.epilogue_buffer(deq_code)))
    else:
        macros["LOAD(v,j)"] = "(v)"
        buffers.insert(0, ("b", ctx.dummy_buffer()))
    refs = ctx.builder.instance(kernel_source("plan_mvn.cl"), macros, prelude=prelude)
    kernel, gsize, lsize = mvn_launch(refs, rows, group)
    return Launch(kernel, [("t", y_name), ("t", x_name), *buffers], gsize, lsize, "mvn_q")
