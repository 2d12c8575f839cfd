"""Float steps: Softmax, MVN, LRN across channels, scaled dot-product attention and
elementwise activations / add / multiply as kernels; anything else runs the op's NumPy
reference on the host between kernels."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops.op_lrn import LRN
from gpu_int8.ops.op_mvn import MVN
from gpu_int8.ops.reduce_common import normalize_axes
from gpu_int8.reference.int8_executor import run_step
from gpu_int8.schedule import Step
from gpu_int8.scheduler.compile.actions import HostCall, Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, global_1d
from gpu_int8.scheduler.compile.eltwise import float_elementwise
from gpu_int8.scheduler.program_cache import kernel_source

#: attention keys a work-item keeps its logits for in private memory
MAX_ATTENTION_KEYS = 256


def _plain_f32(ctx: CompileContext, *names: str) -> bool:
    return all(ctx.placement(n).dtype == "f32" and ctx.placement(n).layout == "plain" for n in names)


def _row_group(length: int) -> int:
    """Work-items sharing one row: a power of two up to 16, no more than the row has.  16 is
    one vector on Intel's CPU runtime and a subgroup on Intel GPUs; wider groups pay for
    more barrier levels on CPUs (PP-OCRv4 rec's 40 x 6625 Softmax: 0.20 ms with 128, 0.13
    with 16; its 40 x 120 MVN: 0.047 and 0.011 ms).  No more than the row: with work-items
    that take no element, pip's PoCL 3.0-rc2 now and then returned wrong rows (a 5-element
    MVN in groups of 8: 3 of 60 runs)."""
    return 1 << min(4, max(length, 1).bit_length() - 1)


def _literal(value: float) -> str:
    """A float32 value as an exact OpenCL C literal."""
    return float(np.float32(value)).hex() + "f"


def compile_softmax(ctx: CompileContext, step: Step) -> StepPlan | None:
    args = step.attrs["args"]
    if len(args) != 1 or args[0] is None or args[0][0] != "t" or len(step.outputs) != 1:
        return None
    x_name, y_name = args[0][1], step.outputs[0]
    x_p, y_p = ctx.placement(x_name), ctx.placement(y_name)
    if not _plain_f32(ctx, x_name, y_name) or y_p.shape != x_p.shape:
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
    if inner == 1 and ctx.device.info.keeps_work_items_apart:  # a row per work-item, in vectors
        refs = ctx.builder.instance(kernel_source("plan_softmax_rows.cl"), {"ROWS": rows, "AXIS_LEN": length})
        # about 16 work-groups per core: Intel's runtime dispatches work-groups one by one
        gsize, lsize = global_1d(rows, max(1, rows // (16 * max(ctx.device.info.compute_units, 1))))
        return StepPlan(step, "softmax", "opencl", [Launch(refs["softmax_rows"], [("t", y_name), ("t", x_name)],
                                                           gsize, lsize, "softmax_rows")])
    group = _row_group(length)
    refs = ctx.builder.instance(kernel_source("plan_softmax.cl"),
                                {"ROWS": rows, "AXIS_LEN": length, "INNER": inner, "WG": group})
    return StepPlan(step, "softmax", "opencl", [Launch(refs["softmax"], [("t", y_name), ("t", x_name)],
                                                       (rows * group,), (group,), "softmax")])


def compile_mvn(ctx: CompileContext, step: Step) -> StepPlan | None:
    """MVN over trailing axes (a layer norm's statistics); others run on the host."""
    setup = mvn_setup(ctx, step)
    x_name, y_name = step.attrs["args"][0][1], step.outputs[0]
    if setup is None or not _plain_f32(ctx, x_name, y_name):
        return None
    macros, rows, group = setup
    refs = ctx.builder.instance(kernel_source("plan_mvn.cl"), macros)
    kernel, gsize, lsize = mvn_launch(refs, rows, group)
    return StepPlan(step, "mvn", "opencl", [Launch(kernel, [("t", y_name), ("t", x_name)], gsize, lsize, "mvn")])


#: rows from which ``plan_mvn.cl`` takes one work-item per row (a vector of rows on Intel's CPU
#: runtime) instead of a work-group: PP-OCRv4 rec's 40 x 120 layer norms, quantized, 0.0104 ->
#: 0.0045 ms each when run alone; rec 1.011x and 1.017x (old and new in one process)
MVN_ROWS_PER_ITEM_FROM = 16


def mvn_launch(refs: dict, rows: int, group: int) -> tuple:
    """``(kernel, global size, local size)`` of an instance of ``plan_mvn.cl``."""
    if rows >= MVN_ROWS_PER_ITEM_FROM:
        return (refs["mvn_rows"], *global_1d(rows, 16))
    return refs["mvn"], (rows * group,), (group,)


def mvn_setup(ctx: CompileContext, step: Step) -> tuple[dict, int, int] | None:
    """``(macros, rows, work-group size)`` of ``plan_mvn.cl`` for an MVN step over trailing axes of
    one tensor (its other arguments constants), or None."""
    args = step.attrs["args"]
    if not args or any(a is None for a in args) or args[0][0] != "t" or len(step.outputs) != 1 \
            or any(a[0] != "c" for a in args[1:]):
        return None
    shape = ctx.placement(args[0][1]).shape
    node = step.op_node
    axes_const = step.consts[args[1][1]] if len(args) > 1 else None
    try:
        axes, mode = MVN.axes_and_mode(node, len(shape), axes_const)
    except (ValueError, KeyError):
        return None
    if sorted(axes) != list(range(len(shape) - len(axes), len(shape))):
        return None
    length = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    rows = ctx.placement(args[0][1]).size // max(length, 1)
    group = _row_group(length)
    macros = {"ROWS": rows, "LEN": length, "WG": group, "NORMALIZE": int(bool(MVN.attr(node, "normalize_variance"))),
              "EPS_INSIDE": int(mode == "inside_sqrt"), "EPS": _literal(MVN.attr(node, "eps"))}
    return macros, rows, group


def compile_lrn(ctx: CompileContext, step: Step) -> StepPlan | None:
    """LRN across channels (axes {1}: ONNX's LRN, and AlexNet's and GoogLeNet's in IR); a
    window over other axes runs on the host."""
    args = step.attrs["args"]
    if len(args) != 2 or any(a is None for a in args) or args[0][0] != "t" or args[1][0] != "c" \
            or len(step.outputs) != 1:
        return None
    x_name, y_name = args[0][1], step.outputs[0]
    shape = ctx.placement(x_name).shape
    if not _plain_f32(ctx, x_name, y_name) or len(shape) < 2 or ctx.placement(y_name).shape != shape:
        return None
    try:
        axes = normalize_axes(step.consts[args[1][1]], len(shape))
    except (ValueError, TypeError):
        return None
    if list(axes) != [1]:
        return None
    node = step.op_node
    size = int(LRN.attr(node, "size"))
    total = int(np.prod(shape, dtype=np.int64))
    if size < 1 or not 0 < total < 2**31:  # int indices
        return None
    alpha, beta = LRN.attr(node, "alpha") / size, LRN.attr(node, "beta")
    inner = total // (shape[0] * shape[1])  # positions per channel
    macros = {"C": shape[1], "INNER": inner, "HALF": (size - 1) // 2,
              "ALPHA": _literal(alpha), "ALPHA64": float(alpha).hex(), "BETA": _literal(beta),
              "BETA_3_4": int(beta == 0.75), "BIAS": _literal(LRN.attr(node, "bias"))}
    refs = ctx.builder.instance(kernel_source("plan_lrn.cl"), macros)
    local = min(64, inner)
    return StepPlan(step, "lrn", "opencl", [Launch(refs["lrn"], [("t", y_name), ("t", x_name)],
                                                   (-(-inner // local) * local, shape[0] * shape[1]), (local, 1),
                                                   "lrn")])


def compile_attention(ctx: CompileContext, step: Step) -> StepPlan | None:
    """Attention with equal batch axes, at most MAX_ATTENTION_KEYS keys, a scalar float (or
    no) mask and a scalar (or the default) scale.  As in the reference, ``causal`` ignores
    the mask."""
    setup = attention_setup(ctx, step)
    if setup is None:
        return None
    macros, names, (gsize, lsize) = setup
    refs = ctx.builder.instance(kernel_source("plan_attention.cl"), macros)
    return StepPlan(step, "attention", "opencl",
                    [Launch(refs["attention"], [("t", step.outputs[0])] + [("t", n) for n in names], gsize, lsize,
                            "attention")])


#: bytes of local memory an attention's keys and values of one head may take, at most (so that
#: a work-group dequantizes them once for its query rows, ``KV_LOCAL`` in plan_attention.cl)
ATTENTION_LOCAL_BYTES = 32 * 1024

#: query rows of a work-group that stages its head's keys and values, for heads of at least as
#: many rows (shorter ones: groups of 16).  Each group stages the head's keys and values through
#: their dequantizations: PP-OCRv4 rec at the OCR pipeline's 960-pixel batches (120 rows) 0.109
#: -> 0.077 ms an attention with 64 rows a group; at 40 rows, groups of 48 were no faster than
#: of 16.  A multiple of 16: the runtime vectorizes the rows 16 at a time.
ATTENTION_GROUP_ROWS = 64


def attention_setup(ctx: CompileContext, step: Step) -> tuple[dict, list[str], tuple] | None:
    """``(macros, [q, k, v], (global size, local size))`` of ``plan_attention.cl`` for an
    attention step of plain float tensors (see :func:`compile_attention`), or None."""
    args = step.attrs["args"]
    if len(args) < 3 or any(a is None or a[0] != "t" for a in args[:3]) or len(step.outputs) != 1:
        return None
    names = [a[1] for a in args[:3]]
    extra = [None if a is None else (step.consts[a[1]] if a[0] == "c" else "tensor") for a in args[3:5]]
    extra += [None] * (2 - len(extra))
    mask, scale = extra
    if not _plain_f32(ctx, *names, step.outputs[0]) or any(isinstance(e, str) for e in extra):
        return None
    q, k, v = (ctx.placement(n).shape for n in names)
    causal = bool(step.attrs.get("op_attrs", {}).get("causal", False))
    if len(q) < 2 or not (q[:-2] == k[:-2] == v[:-2]) or k[-1] != q[-1] or v[-2] != k[-2]:
        return None
    if k[-2] > MAX_ATTENTION_KEYS:
        return None
    if causal:
        mask = None
    if any(e is not None and (np.size(e) != 1 or not np.issubdtype(np.asarray(e).dtype, np.floating)
                              or not np.isfinite(e).all()) for e in (mask, scale)):
        return None
    factor = np.float32(1.0 / np.sqrt(q[-1])) if scale is None else np.float32(np.asarray(scale).reshape(()))
    batch = int(np.prod(q[:-2], dtype=np.int64))
    macros = {"B": batch, "LQ": q[-2], "LK": k[-2], "D": q[-1], "DV": v[-1], "SCALE": _literal(factor),
              "MASK": _literal(0.0 if mask is None else np.asarray(mask).reshape(())), "CAUSAL": int(causal)}
    kv_bytes = 4 * k[-2] * (k[-1] + v[-1])
    if kv_bytes > min(ATTENTION_LOCAL_BYTES, ctx.device.info.local_mem_bytes):
        sizes = global_1d(batch * q[-2], 16)
        return {**macros, "KV_LOCAL": 0, "WG": sizes[1][0]}, names, sizes
    group = ATTENTION_GROUP_ROWS if q[-2] >= ATTENTION_GROUP_ROWS else min(16, q[-2])
    sizes = ((-(-q[-2] // group) * group, batch), (group, 1))
    return {**macros, "KV_LOCAL": 1, "WG": group}, names, sizes


def compile_float(ctx: CompileContext, step: Step) -> StepPlan | None:
    if step.op_type in ("Softmax", "SoftMax"):
        return compile_softmax(ctx, step)
    if step.op_type == "MVN":
        return compile_mvn(ctx, step)
    if step.op_type == "LRN":
        return compile_lrn(ctx, step)
    if step.op_type == "ScaledDotProductAttention":
        return compile_attention(ctx, step)
    return float_elementwise(ctx, step)


def host_step(ctx: CompileContext, step: Step, note: str) -> StepPlan:
    """The step computed by the reference executor's code on the host (exact integer semantics)."""
    tensors = [ctx.schedule.tensors[name] for name in step.outputs]

    def run(inputs, step=step, tensors=tensors):
        return run_step(step, inputs, tensors)

    return StepPlan(step, "host", "host", [HostCall(run, list(step.inputs), list(step.outputs),
                                                    f"host:{step.op_type or step.kind}")], note=note)
