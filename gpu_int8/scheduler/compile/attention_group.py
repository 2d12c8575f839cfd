"""Scaled dot-product attention with the dequantizations before it and the quantization
after it, as one kernel.

PP-OCRv4 rec's attention (OpenVINO's ScaledDotProductAttention) reads its queries and keys
dequantized from int8 (NNCF puts a FakeQuantize on each), and its output is quantized for
the MatMul after it: two dequantize steps, the attention and a quantize step, four
launches, the float ones storing four bytes an element.  One ``plan_attention.cl`` launch
now reads the int8 queries and keys through their dequantization programs and stores the
quantized output: the same programs on the same float32 values, so the same integers.

A group is consecutive steps: dequantizations (per tensor, into a tensor only the
attention reads) of its queries, keys or values, the attention, and a per-tensor quantize
of its output, which only that quantize reads (no model output).  Plans built with
``keep_all`` keep the steps apart.
"""

from __future__ import annotations

import dataclasses

from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.actions import Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, step_epilogue, store_expr
from gpu_int8.scheduler.compile.float_ops import attention_setup
from gpu_int8.scheduler.compile.move_chain import grouped_step, read_once
from gpu_int8.scheduler.program_cache import kernel_source

_ATTENTION = "ScaledDotProductAttention"


def attention_groups(schedule: Schedule) -> dict[int, list[int]]:
    """Groups by the index of their first step."""
    only_next = read_once(schedule)
    steps, groups = schedule.steps, {}
    for i in range(len(steps) - 1):
        op, quant = steps[i], steps[i + 1]
        if op.kind != "float" or op.op_type != _ATTENTION or len(op.outputs) != 1 \
                or not only_next(op.outputs[0]) or quant.kind != "quantize" or quant.inputs != op.outputs \
                or len(quant.outputs) != 1 or quant.axis is not None:
            continue
        args = [a[1] for a in op.attrs.get("args", [])[:3] if a is not None and a[0] == "t"]
        first = i
        while first > 0 and _dequantizes_an_argument(steps[first - 1], args, only_next):
            first -= 1
        groups[first] = list(range(first, i + 2))
    return groups


def _dequantizes_an_argument(step: Step, args: list[str], only_next) -> bool:
    return step.kind == "dequantize" and len(step.inputs) == 1 and len(step.outputs) == 1 \
        and step.axis is None and step.outputs[0] in args and only_next(step.outputs[0])


def compile_attention_group(ctx: CompileContext, steps: list[Step]) -> StepPlan | None:
    """The group's one launch, or None where the kernel does not apply."""
    *dequantizations, op, quant = steps
    setup = attention_setup(ctx, op)
    y_name = quant.outputs[0]
    y_p = ctx.placement(y_name)
    if setup is None or y_p.layout != "plain" or y_p.dtype not in ("u8", "i8") \
            or y_p.shape != ctx.placement(op.outputs[0]).shape:
        return None
    macros, names, (gsize, lsize) = setup
    tensors, buffers, prelude = [], [], ""
    for role, name in zip("qkv", names, strict=True):
        deq = next((d for d in dequantizations if d.outputs[0] == name), None)
        if deq is None:  # read as it is stored
            macros[f"{role.upper()}_T"], macros[f"LOAD_{role.upper()}(v)"] = "float", "(v)"
            tensors.append(name)
            buffers.append(("b", ctx.dummy_buffer()))
            continue
        x_p = ctx.placement(deq.inputs[0])
        code = step_epilogue(deq, ctx.placement(name), f"attention_{role}")
        if x_p.layout != "plain" or x_p.dtype not in ("u8", "i8") or x_p.shape != ctx.placement(name).shape \
                or code.inputs:
            return None
        macros[f"{role.upper()}_T"] = x_p.cl_type
        macros[f"LOAD_{role.upper()}(v)"] = code.call("(v)", "0", f"k{role}", {})
        prelude += code.source
        tensors.append(deq.inputs[0])
        buffers.append(("b", ctx.epilogue_buffer(code)))
    code = step_epilogue(quant, y_p, "attention_y")
    if code.inputs:
        return None
    macros.update({"Y_T": y_p.cl_type, "STORE_Y(v)": store_expr(y_p.dtype, code.call("(v)", "0", "ky", {}),
                                                                  program=quant.epilogue),
                   "GROUP_ARGS": "".join(f", __global const float *k{r}" for r in "qkvy")})
    refs = ctx.builder.instance(kernel_source("plan_attention.cl"), macros, prelude=prelude + code.source)
    launch = Launch(refs["attention"], [("t", y_name)] + [("t", t) for t in tensors]
                    + buffers + [("b", ctx.epilogue_buffer(code))], gsize, lsize, "attention_q")
    # the step reads every tensor the launch does (the memory plan keeps them until then)
    step = dataclasses.replace(grouped_step(steps), inputs=list(dict.fromkeys(tensors)))
    return StepPlan(step, "attention_q", "opencl", [launch])
