"""Convolution and transposed-convolution steps.

A convolution runs on the device's kernel family (:class:`~gpu_int8.scheduler.conv_kernels.ConvKernel`:
``conv_gemm_*`` / ``dwconv_*``) when its tensors are in the family's layout and
the family has a kernel for it.  Those kernels end in the plain requantization
``q = clamp(rint(acc * m + b), lo, hi)``; a step whose epilogue is exactly that
(a relu or clamp folds into ``lo``/``hi``) runs as is, a float output with one
affine runs in the kernel's float mode, and any other epilogue (residual add or
multiply, other activations, several affines) is generated into the kernel
(``OUT_MODE`` 3, plan label ``<kernel>:epilogue``) when its operands are stored
like the output; otherwise the kernel stores the int32 accumulator and an
elementwise pass runs the epilogue (label ``<kernel>+epilogue``).  Everything else - other layouts,
missing family kernels, transposed convolutions - runs the direct kernels
``cl_kernels/plan_conv_direct.cl`` / ``plan_deconv_direct.cl`` with the
generated epilogue inlined.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from gpu_int8.schedule import Step
from gpu_int8.scheduler.compile.actions import CallLaunch, Launch, StepPlan
from gpu_int8.scheduler.compile.context import CompileContext, extra_args, step_epilogue, store_expr
from gpu_int8.scheduler.compile.eltwise import epilogue_launch
from gpu_int8.scheduler.compile.indexing import Placement, udiv_expr
from gpu_int8.scheduler.conv_geometry import ConvGeometry
from gpu_int8.scheduler.conv_kernels import ConvKernel, FusedEpilogue
from gpu_int8.scheduler.epilogue_codegen import canonical_requant
from gpu_int8.scheduler.program_cache import kernel_source
from gpu_int8.scheduler.vnni_gemm import as_dense_gemm, vnni_applies
from gpu_int8.scheduler.vnni_probe import vnni_supported

#: activation layout each family's convolution kernels read and write
FAMILY_LAYOUT = {"portable": "nhwc", "intel": "fsv16"}


class RecordingDevice:
    """A CLDevice stand-in for host-side kernel classes: ``program`` records into the plan's
    ProgramBuilder (one batched build), uploads count toward the plan's constant bytes."""

    def __init__(self, ctx: CompileContext):
        self._ctx = ctx
        self.allocator = _CountingAllocator(ctx)

    def __getattr__(self, name):
        return getattr(self._ctx.device, name)

    def program(self, source_file, kernel_name, defines=None, options=None, prelude="", group=""):
        return self._ctx.builder.program(source_file, kernel_name, defines, options, prelude, group)


class _CountingAllocator:
    def __init__(self, ctx: CompileContext):
        self._ctx = ctx

    def from_numpy(self, array):
        self._ctx.const_bytes += max(np.asarray(array).nbytes, 1)
        return self._ctx.device.allocator.from_numpy(array)

    def __getattr__(self, name):
        return getattr(self._ctx.device.allocator, name)


def has_kernel(source_file: str, kernel_name: str) -> bool:
    """Whether ``cl_kernels/<source_file>`` exists and defines ``kernel_name``."""
    try:
        return f"void {kernel_name}(" in kernel_source(source_file).replace("\n", " ")
    except OSError:
        return False


def per_channel(vector, count: int, dtype) -> np.ndarray:
    v = np.asarray(vector, dtype).reshape(-1)
    return np.broadcast_to(v, (count,)).copy() if v.size == 1 else v.astype(dtype)


def family_kernel_name(family: str, geom: ConvGeometry) -> tuple[str, str]:
    base = "dwconv" if geom.is_depthwise else "conv_gemm"
    return f"{base}_{family}.cl", f"{base}_{family}"


def family_launches(ctx: CompileContext, step: Step, family: str, geom: ConvGeometry, weights: np.ndarray,
                    x_name: str, x_p: Placement, y_name: str, y_p: Placement,
                    pad_value: int = 0) -> tuple[str, list] | None:
    """Launches running a conv/matmul step on a family ConvKernel (plus an epilogue pass), or None."""
    source, kname = family_kernel_name(family, geom)
    if not has_kernel(source, kname):
        return None
    cout = geom.cout
    comp = per_channel(step.consts.get("comp", np.zeros(1, np.int32)), cout, np.int32)
    stored_alike = y_p.layout == x_p.layout  # else the kernel writes int32 in its layout, the pass converts
    mode, m, b, lo, hi, fused = store_mode(ctx, step, y_p) if stored_alike else ("i32", 1, 0, None, None, None)
    target = y_name
    if mode == "i32":
        target = ctx.add_scratch(f"{step.name}/acc", Placement(y_p.shape, "i32", x_p.layout))
    try:
        kernel = ConvKernel(RecordingDevice(ctx), family, geom, weights, comp,
                            per_channel(m, cout, np.float32), per_channel(b, cout, np.float32),
                            act_dtype=x_p.np_dtype, out=mode, lo=lo, hi=hi, pad_value=pad_value,
                            subgroup_size=ctx.subgroup_size or 16,
                            epilogue=fused[0] if mode == "epilogue" else None)
    except (OSError, KeyError, ValueError):
        ctx.scratch.pop(f"{step.name}/acc", None)
        ctx.placements.pop(f"{step.name}/acc", None)
        return None
    actions, src, kname = [], x_name, kernel.name
    if kernel.im2col is not None:  # the gathered windows: a scratch tensor the memory plan reuses
        src = ctx.add_scratch(f"{step.name}/cols", Placement((geom.n, kernel.cols_nbytes // geom.m, geom.oh, geom.ow),
                                                             "u8", x_p.layout))
        actions.append(CallLaunch(kernel.im2col, [x_name, src], "im2col"))
        kname = "im2col+" + kname
    if mode == "epilogue":  # the kernel runs the whole program, reading residual operands itself
        return f"{kname}:epilogue", actions + [CallLaunch(kernel.gemm, [src, target] + fused[1], kname)]
    actions.append(CallLaunch(kernel.gemm, [src, target], kname))
    if mode == "i32":
        code = step_epilogue(step, y_p)
        operands = {k: (step.inputs[k], ctx.placement(step.inputs[k])) for k in code.inputs}
        actions.append(epilogue_launch(ctx, "epilogue", code, (target, ctx.placement(target)), operands,
                                       (y_name, y_p), step.axis, step=step))
    return kname + ("+epilogue" if mode == "i32" else ""), actions


def store_mode(ctx: CompileContext, step: Step, y_p: Placement) -> tuple:
    """How a family kernel finishes ``step`` writing ``y_p`` itself: ``(mode, m, b, lo, hi, fused)``,
    mode the ConvKernel ``out``: u8/i8 (the plain requantization ``m``, ``b``, ``lo``, ``hi``), f32
    (one affine), "epilogue" (the whole program in the kernel, ``fused`` = (FusedEpilogue, the
    tensors it reads)), or "i32" (the raw sums, for an epilogue pass after)."""
    one, zero = np.ones(1), np.zeros(1)
    canon = canonical_requant(step.epilogue, step.consts) if y_p.dtype in ("u8", "i8") else None
    if canon is not None and len(step.inputs) == 1:
        return (y_p.dtype, *canon, None)
    if y_p.dtype == "f32" and len(step.epilogue) == 1 and step.epilogue[0][0] == "affine":
        m, b = (step.consts[k] for k in step.epilogue[0][1:])
        return "f32", m, b, None, None, None
    fused = fused_epilogue(ctx, step, y_p)
    return ("epilogue" if fused else "i32"), one, zero, None, None, fused


def fused_epilogue(ctx: CompileContext, step: Step, y_p: Placement) -> tuple[FusedEpilogue, list[str]] | None:
    """The step's epilogue for the family kernels' OUT_MODE 3, and the tensors it reads, or None
    when an operand is not stored like the output (it could not be read at the output's offset)."""
    code = step_epilogue(step, y_p)
    ops = [step.inputs[k] for k in code.inputs]
    if any(ctx.placement(t).shape != y_p.shape or ctx.placement(t).layout != y_p.layout for t in ops):
        return None
    values = {k: f"(float)epi_in{k}[off]" for k in code.inputs}
    store = store_expr(y_p.dtype, code.call("(float)(acc)", "(c)", "epi_k", values), program=step.epilogue)
    # restrict: no operand is the output's buffer (a step's inputs and outputs live at once)
    operand_params = "".join(
        f", __global const {ctx.placement(step.inputs[k]).cl_type} *restrict epi_in{k}" for k in code.inputs)
    params = ", __global const float *restrict epi_k" + operand_params
    # 8 (conv_gemm_portable), 4 (conv_gemm_dot) or 16 (conv_gemm_vnni, Intel's runtime only)
    # consecutive channels at once, for kernels that hold them in a vector
    stores = {}
    for width in (8, 4, 16) if ctx.device.info.vector_width == 16 else (8, 4):
        vec = step_epilogue(step, y_p, f"ep{width}", width=width)
        values = {k: f"convert_float{width}(vload{width}(0, epi_in{k} + (off)))" for k in vec.inputs}
        value = vec.call(f"convert_float{width}(acc{width})", "(c)", "epi_k", values)
        stored = store_expr(y_p.dtype, value, width, step.epilogue)
        stores[width] = (vec.source, f"vstore{width}({stored}, 0, y + (off))")
    source = code.source + "".join(src for src, _ in stores.values())
    prefetch = "".join(f"prefetch(epi_in{k} + (off), n);" for k in code.inputs)
    return FusedEpilogue(source, store, y_p.cl_type, params, code.consts, stores[8][1], stores[4][1],
                         stores.get(16, ("", ""))[1], prefetch, operand_params), ops



def compile_conv(ctx: CompileContext, step: Step) -> StepPlan | None:
    x_name, y_name = step.inputs[0], step.outputs[0]
    x_p, y_p = ctx.placement(x_name), ctx.placement(y_name)
    if len(x_p.shape) != 4 or x_p.dtype not in ("u8", "i8"):
        return None
    a = step.attrs
    w = np.asarray(step.consts["w"])  # [G, Og, Cg, KH, KW]
    groups, og, cg, kh, kw = w.shape
    n, c, h, wd = x_p.shape
    try:
        geom = ConvGeometry(n, c, h, wd, groups * og, kh, kw, tuple(a["strides"]), tuple(a["pads_begin"]),
                            tuple(a["pads_end"]), tuple(a["dilations"]), groups)
    except ValueError:
        geom = None
    flat_w = w.reshape(groups * og, cg, kh, kw).astype(np.int8)
    if (geom is not None and ctx.family in FAMILY_LAYOUT and (geom.oh, geom.ow) == tuple(y_p.shape[2:])
            and x_p.layout == FAMILY_LAYOUT[ctx.family]):
        dense = as_dense_gemm(geom, flat_w) if ctx.family == "portable" and \
            vnni_supported(ctx.device.info, ctx.device.cache.directory) else None
        gemm_geom, gemm_w = dense or (geom, flat_w)
        if y_name in ctx.in_place:
            into = _conv_into_concat(ctx, step, gemm_geom, gemm_w, *ctx.in_place[y_name])
            if into is not None:
                ctx.written_in_place.add(y_name)
                concat = ctx.in_place[y_name][0]
                return StepPlan(dataclasses.replace(step, outputs=[concat]), into[0], "opencl", into[1],
                                note=f"stored in '{concat}'")
        found = _conv_to_plain(ctx, step, gemm_geom, gemm_w) if y_p.layout == "plain" else None
        found = found or family_launches(ctx, step, ctx.family, gemm_geom, gemm_w, x_name, x_p, y_name, y_p,
                                         int(a["pad_value"]))
        if found is not None:
            return StepPlan(step, found[0], "opencl", found[1])
    return direct_conv(ctx, step, flat_w)


def _conv_to_plain(ctx: CompileContext, step: Step, geom: ConvGeometry, weights: np.ndarray
                   ) -> tuple[str, list] | None:
    """A convolution writing float NCHW (the input of a float step) straight from the vnni kernel,
    each channel at its plane, through the step's epilogue; else None (then the kernel stores
    int32 NHWC and a pass converts: for GoogLeNet's 64 -> 192 3x3 at 55x55, 0.8 ms each)."""
    y_p = ctx.placement(step.outputs[0])
    if y_p.dtype != "f32" or len(y_p.shape) != 4:
        return None
    plane = geom.oh * geom.ow
    out_at = (f"((size_t)((m) / {plane}) * {geom.cout * plane} + (m) % {plane})", f"((size_t)(c) * {plane})", "(c)")
    # a pixel's channels lie a plane apart here: the epilogue stores them one by one
    return _vnni_stored_at(ctx, step, geom, weights, step.outputs[0], out_at, ("f32", "epilogue"), False,
                           "to_nchw")


def _conv_into_concat(ctx: CompileContext, step: Step, geom: ConvGeometry, weights: np.ndarray,
                      concat: str, offset: int) -> tuple[str, list] | None:
    """A convolution storing its NHWC int8 output at channel ``offset`` of the NHWC tensor ``concat``
    (``compile/concat_in_place.py``) from the vnni kernel, or None."""
    channels = ctx.placement(concat).shape[1]
    out_at = (f"((size_t)(m) * {channels})", f"((c) + {offset})", "(c)")
    return _vnni_stored_at(ctx, step, geom, weights, concat, out_at, ("u8", "i8", "epilogue"), True, "in_place")


def _vnni_stored_at(ctx: CompileContext, step: Step, geom: ConvGeometry, weights: np.ndarray, target: str,
                    out_at: tuple[str, str, str], modes: tuple, vector_stores: bool, label: str
                    ) -> tuple[str, list] | None:
    """The vnni kernel storing row m, channel c of the GEMM at ``out_at`` of tensor ``target``
    (``ConvKernel``'s ``out_at``), where the step's store mode is one of ``modes`` and its epilogue
    reads no operand at the output's offset; ``vector_stores``: a pixel's channels stay adjacent."""
    x_name, y_p = step.inputs[0], ctx.placement(step.outputs[0])
    x_p = ctx.placement(x_name)
    if (ctx.family != "portable" or x_p.layout != "nhwc" or not ctx.device.info.keeps_work_items_apart
            or not vnni_applies(geom) or not vnni_supported(ctx.device.info, ctx.device.cache.directory)):
        return None
    mode, m, b, lo, hi, fused = store_mode(ctx, step, y_p)
    if mode not in modes or (fused and fused[1]):
        return None
    epilogue = fused[0] if fused else None
    if epilogue is not None and not vector_stores:
        epilogue = dataclasses.replace(epilogue, store8="", store4="", store16="")
    cout = geom.cout
    comp = per_channel(step.consts.get("comp", np.zeros(1, np.int32)), cout, np.int32)
    try:
        kernel = ConvKernel(RecordingDevice(ctx), "portable", geom, weights, comp, per_channel(m, cout, np.float32),
                            per_channel(b, cout, np.float32), act_dtype=x_p.np_dtype, out=mode, lo=lo, hi=hi,
                            pad_value=int(step.attrs["pad_value"]), subgroup_size=ctx.subgroup_size or 16,
                            variant="vnni", epilogue=epilogue, out_at=out_at)
    except (OSError, KeyError, ValueError):
        return None
    return f"{kernel.name}:{label}", [CallLaunch(kernel.gemm, [x_name, target], kernel.name)]


def _comp_expr(step: Step, ctx: CompileContext) -> tuple[str, object]:
    comp = step.consts.get("comp")
    if comp is None:
        return "0", ctx.dummy_buffer()
    comp = np.asarray(comp, np.int32).reshape(-1)
    return ("comp[0]" if comp.size == 1 else "comp[c]"), ctx.const(comp)


def _epilogue_defines(ctx: CompileContext, step: Step, y_p: Placement) -> tuple[dict, object, list]:
    code = step_epilogue(step, y_p)
    coords = ["n", "c", "oh", "ow"]
    values = {k: f"(float)in{k}[{ctx.placement(step.inputs[k]).offset(coords, y_p.shape)}]" for k in code.inputs}
    defines = {"EPI(y,c,n,oh,ow)": code.call("y", "c", "k", values),
               "STORE(y)": store_expr(y_p.dtype, "y", program=step.epilogue),
               "EXTRA_ARGS": extra_args(code, {k: ctx.placement(step.inputs[k]) for k in code.inputs})}
    return defines, code, [("t", step.inputs[k]) for k in code.inputs]


def direct_conv(ctx: CompileContext, step: Step, flat_w: np.ndarray) -> StepPlan:
    """The direct kernel: any layout, any group count, the step's full epilogue."""
    x_name, y_name = step.inputs[0], step.outputs[0]
    x_p, y_p = ctx.placement(x_name), ctx.placement(y_name)
    a = step.attrs
    cout, cin_g, kh, kw = flat_w.shape
    cout_g = cout // (x_p.shape[1] // cin_g)
    ocb = next(b for b in (8, 4, 2, 1) if cout_g % b == 0)
    comp_expr, comp_buf = _comp_expr(step, ctx)
    epi, code, extra = _epilogue_defines(ctx, step, y_p)
    n, _, ih, iw = x_p.shape
    oh, ow = y_p.shape[2:]
    defines = {"X_T": x_p.cl_type, "Y_T": y_p.cl_type, "N": n, "IH": ih, "IW": iw, "OH": oh, "OW": ow,
               "KH": kh, "KW": kw, "SH": int(a["strides"][0]), "SW": int(a["strides"][1]),
               "PH": int(a["pads_begin"][0]), "PW": int(a["pads_begin"][1]), "DH": int(a["dilations"][0]),
               "DW": int(a["dilations"][1]), "CIN_G": cin_g,
               "COUT_G": cout_g, "COUT": cout, "OCB": ocb, "PAD_VALUE": int(a["pad_value"]),
               "X_OFF(n,c,h,w)": x_p.offset(["n", "c", "h", "w"]),
               "Y_OFF(n,c,h,w)": y_p.offset(["n", "c", "h", "w"]), "COMP(c)": comp_expr, **epi}
    refs = ctx.builder.instance(kernel_source("plan_conv_direct.cl"), defines, prelude=code.source)
    weights = np.ascontiguousarray(flat_w.transpose(0, 2, 3, 1))
    args = [("t", y_name), ("t", x_name), ("b", ctx.const(weights)), ("b", comp_buf),
            ("b", ctx.epilogue_buffer(code))] + extra
    launch = Launch(refs["conv_direct"], args, (cout // ocb, -(-(n * oh * ow) // 64) * 64), (1, 64), "conv_direct")
    return StepPlan(step, "conv_direct", "opencl", [launch])


def deconv_as_gemm(ctx: CompileContext, step: Step, w: np.ndarray) -> StepPlan | None:
    """A transposed convolution whose kernel equals its stride (no overlapping taps) is a 1x1
    convolution to ``Cout * KH * KW`` channels, each output pixel reading one of them: the family
    kernel stores that int32 accumulator, the epilogue pass gathers from it."""
    x_name, y_name = step.inputs[0], step.outputs[0]
    x_p, y_p = ctx.placement(x_name), ctx.placement(y_name)
    a = step.attrs
    groups, cin, cout, kh, kw = w.shape
    sh, sw = a["strides"]
    n, _, h, wd = x_p.shape
    ph, pw = a["pads_begin"]
    if (groups != 1 or (kh, kw) != (sh, sw) or any(d != 1 for d in a["dilations"]) or ctx.family not in FAMILY_LAYOUT
            or x_p.layout != FAMILY_LAYOUT[ctx.family] or any(a.get("output_padding", [0, 0]))
            or y_p.shape[2] + ph + a["pads_end"][0] != h * sh or y_p.shape[3] + pw + a["pads_end"][1] != wd * sw):
        return None
    taps = kh * kw
    geom = ConvGeometry(n, cin, h, wd, cout * taps)
    source, kname = family_kernel_name(ctx.family, geom)
    if not has_kernel(source, kname):
        return None
    # GEMM channel tap*Cout + c (tap-major): an output pixel's channels are contiguous in the accumulator
    flat = np.ascontiguousarray(w[0].transpose(2, 3, 1, 0).reshape(cout * taps, cin, 1, 1))
    comp = np.tile(per_channel(step.consts.get("comp", np.zeros(1, np.int32)), cout, np.int32), taps)
    if ph == pw == 0:
        scattered = _deconv_scattered(ctx, step, geom, flat, comp, (kh, kw, cout))
        if scattered is not None:
            return scattered
    acc = ctx.add_scratch(f"{step.name}/acc", Placement((n, cout * taps, h, wd), "i32", x_p.layout))
    try:
        kernel = ConvKernel(RecordingDevice(ctx), ctx.family, geom, flat, comp, np.ones(cout * taps, np.float32),
                            np.zeros(cout * taps, np.float32), act_dtype=x_p.np_dtype, out="i32",
                            subgroup_size=ctx.subgroup_size or 16)
    except (OSError, KeyError, ValueError):
        ctx.scratch.pop(acc, None)
        ctx.placements.pop(acc, None)
        return None

    def gather(names):  # output (n, c, oh, ow) reads channel tap*Cout + c of pixel ((oh+ph)/sh, (ow+pw)/sw)
        nn, c, oh, ow = names
        # unsigned, and by multiplication: a vector division would be a library call (see udiv_expr)
        ys, xs = f"(uint)({oh}+{ph})", f"(uint)({ow}+{pw})"
        qy, qx = udiv_expr(ys, sh, y_p.shape[2] + ph), udiv_expr(xs, sw, y_p.shape[3] + pw)
        return [nn, f"(int)(({ys} - {qy}*{sh}u)*{kw} + ({xs} - {qx}*{sw}u))*{cout} + {c}", f"(int){qy}",
                f"(int){qx}"]

    code = step_epilogue(step, y_p)
    operands = {k: (step.inputs[k], ctx.placement(step.inputs[k])) for k in code.inputs}
    epilogue = epilogue_launch(ctx, "epilogue", code, (acc, ctx.placement(acc)), operands, (y_name, y_p), step.axis,
                               start_coords=gather, step=step, start_follows_channels=True)
    return StepPlan(step, f"{kernel.name}+epilogue", "opencl",
                    [CallLaunch(kernel.prepare, [x_name, acc], kernel.name), epilogue])


def _deconv_scattered(ctx: CompileContext, step: Step, geom: ConvGeometry, flat: np.ndarray, comp: np.ndarray,
                      taps: tuple[int, int, int]) -> StepPlan | None:
    """The same GEMM on the vnni kernel storing each tap's channels, 8 at a time, straight at their
    output pixel with the step's epilogue: no int32 accumulator, no pass after.  Where the device
    runs the vnni kernel, Cout is a multiple of 8 and nothing is cropped; else None.  (One output
    channel stays with the pass: PP-OCRv4 det's last deconvolution with its sigmoid, one value at
    a time in this kernel, took 1.37 ms against 0.97 for the GEMM and the pass.)"""
    kh, kw, cout = taps
    x_name, y_name = step.inputs[0], step.outputs[0]
    x_p, y_p = ctx.placement(x_name), ctx.placement(y_name)
    n, _, h, w = x_p.shape
    oh, ow = y_p.shape[2:]
    if (ctx.family != "portable" or cout % 8 or y_p.layout != "nhwc" or (oh, ow) != (h * kh, w * kw)
            or not ctx.device.info.keeps_work_items_apart):
        return None
    mode, m, b, lo, hi, fused = store_mode(ctx, step, y_p)
    if mode not in ("u8", "i8", "epilogue"):  # "f32" (one affine) would store one value at a time
        return None
    gemm_cout = geom.cout
    # GEMM row m = (n, ih, iw), channel c = (th * KW + tw) * Cout + co -> output (n, ih*KH+th, iw*KW+tw, co):
    # a row part and a channel part
    tap = f"((c) / {cout})"
    out_at = (f"((size_t)(((m) / {h * w}) * {oh} + ((m) / {w}) % {h} * {kh}) * {ow} + ((m) % {w}) * {kw}) * {cout}",
              f"(({tap} / {kw}) * {ow} + {tap} % {kw}) * {cout} + (c) % {cout}", f"((c) % {cout})")
    try:
        kernel = ConvKernel(RecordingDevice(ctx), "portable", geom, flat, comp,
                            np.tile(per_channel(m, cout, np.float32), gemm_cout // cout),
                            np.tile(per_channel(b, cout, np.float32), gemm_cout // cout),
                            act_dtype=x_p.np_dtype, out=mode, lo=lo, hi=hi, subgroup_size=ctx.subgroup_size or 16,
                            variant="vnni", epilogue=fused[0] if fused else None, out_at=out_at)
    except (OSError, KeyError, ValueError):
        return None
    reads = [x_name, y_name] + (fused[1] if fused else [])
    return StepPlan(step, f"{kernel.name}:scatter", "opencl", [CallLaunch(kernel.gemm, reads, kernel.name)])


def compile_deconv(ctx: CompileContext, step: Step) -> StepPlan | None:
    x_name, y_name = step.inputs[0], step.outputs[0]
    x_p, y_p = ctx.placement(x_name), ctx.placement(y_name)
    if len(x_p.shape) != 4 or x_p.dtype not in ("u8", "i8"):
        return None
    a = step.attrs
    w = np.asarray(step.consts["w"]).astype(np.int8)  # [G, Ci_g, Co_g, KH, KW]
    fast = deconv_as_gemm(ctx, step, w)
    if fast is not None:
        return fast
    groups, cin_g, cout_g, kh, kw = w.shape
    comp_expr, comp_buf = _comp_expr(step, ctx)
    epi, code, extra = _epilogue_defines(ctx, step, y_p)
    n, _, ih, iw = x_p.shape
    cout, oh, ow = y_p.shape[1:]
    defines = {"X_T": x_p.cl_type, "Y_T": y_p.cl_type, "N": n, "IH": ih, "IW": iw, "OH": oh, "OW": ow,
               "KH": kh, "KW": kw, "SH": int(a["strides"][0]), "SW": int(a["strides"][1]),
               "PH": int(a["pads_begin"][0]), "PW": int(a["pads_begin"][1]), "DH": int(a["dilations"][0]),
               "DW": int(a["dilations"][1]), "CIN_G": cin_g,
               "COUT_G": cout_g, "COUT": cout,
               "X_OFF(n,c,h,w)": x_p.offset(["n", "c", "h", "w"]),
               "Y_OFF(n,c,h,w)": y_p.offset(["n", "c", "h", "w"]), "COMP(c)": comp_expr, **epi}
    refs = ctx.builder.instance(kernel_source("plan_deconv_direct.cl"), defines, prelude=code.source)
    args = [("t", y_name), ("t", x_name), ("b", ctx.const(np.ascontiguousarray(w))), ("b", comp_buf),
            ("b", ctx.epilogue_buffer(code))] + extra
    launch = Launch(refs["deconv_direct"], args, (cout, -(-(n * oh * ow) // 64) * 64), (1, 64), "deconv_direct")
    return StepPlan(step, "deconv_direct", "opencl", [launch])
