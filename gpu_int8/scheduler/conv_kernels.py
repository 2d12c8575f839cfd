"""Host side of the int8 convolution / matmul kernels: geometry, weight packing, launches.

One :class:`ConvKernel` is one convolution (or fully connected layer) bound to a
device and a kernel family, with its packed int8 weights and requantization
constants uploaded once.  Calling it runs the kernel on device buffers.

Numerics (both families, exact on integers):
``acc[c] = sum(x * w) + comp[c]`` over the window, padded taps reading the
activation zero point ``pad_value``; then the epilogue of ``cl_kernels/requant.cl``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .const_pack import offset_macros, pack_constants
from .conv_geometry import ConvGeometry, check_weights
from .dot_gemm import (
    DOT_MIN_RUN,
    DOT_MIN_RUN_KEPT_LOOP,
    PORTABLE_VARIANTS,
    needs_im2col,
    pack_weights_dot,
    portable_variant,
    row_runs,
)
from .layouts import BLOCK, blocks
from .vnni_gemm import (
    fitted_rows,
    gemm_channels,
    pack_weights_vnni,
    pack_weights_vnni_groups,
    vnni_channel_blocks,
    vnni_group_blocks,
    vnni_group_channels,
    vnni_half_block,
    vnni_local_size,
    vnni_rows,
    window_words,
)
from .vnni_probe import vnni_supported

OUT_TYPES = {"u8": ("uchar", 0, np.uint8), "i8": ("char", 0, np.int8),
             "i32": ("int", 1, np.int32), "f32": ("float", 2, np.float32)}
_CL_OUT = {"uchar": np.uint8, "char": np.int8, "int": np.int32, "float": np.float32}


@dataclass(frozen=True)
class FusedEpilogue:
    """A generated epilogue a kernel runs instead of the plain requantization (``OUT_MODE`` 3).

    ``prelude`` is OpenCL source (the epilogue function) placed before the kernel;
    ``store`` the C expression of the stored value from ``acc`` (int32, comp added), ``c``
    (output channel) and ``off`` (the element's offset in the output buffer); ``params``
    the extra kernel parameters (``, __global const float *k, ...``): the first is the
    ``consts`` buffer, the others come with each call.  ``store8``, when set, is a statement
    storing 8 consecutive channels from ``acc8`` (int8 vector), ``c`` (the first channel) and
    ``off`` (the first element's offset), for kernels that hold channels in vectors; ``store4``
    the same for 4 channels from ``acc4``, ``store16`` for 16 from ``acc16`` (set only for
    Intel's CPU runtime: PoCL mishandles 16-wide function arguments, see requant.cl).
    ``prefetch``, when set, is a statement asking for ``n`` elements of every operand from
    offset ``off`` (the vnni kernel issues it before its reduction).
    """

    prelude: str
    store: str
    out_type: str  # OpenCL C element type of the output
    params: str
    consts: np.ndarray
    store8: str = ""
    store4: str = ""
    store16: str = ""
    prefetch: str = ""
    operand_params: str = ""  # ``params`` without the constants buffer (kernels packing it with their own)


ACT_TYPES = {np.dtype(np.uint8): "uchar", np.dtype(np.int8): "char"}


# -- weight packing --------------------------------------------------------------------------

def npad16(cout_g: int) -> int:
    return -(-cout_g // 16) * 16


def pack_weights_portable(w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """float32 ``[G][K][NPAD]``, k = (kh*KW + kw)*CIN_G + ci, zero-padded output channels."""
    check_weights(w, g)
    wg = w.reshape(g.groups, g.cout_g, g.cin_g, g.kh, g.kw).transpose(0, 3, 4, 2, 1)  # G,KH,KW,CIN_G,COUT_G
    out = np.zeros((g.groups, g.k, npad16(g.cout_g)), np.float32)
    out[:, :, : g.cout_g] = wg.reshape(g.groups, g.k, g.cout_g)
    return out


def intel_k4(g: ConvGeometry, sg: int) -> tuple[int, int]:
    """(CIN4, K4PAD): packed 4-channel groups per tap and the K4 length padded to a multiple of sg."""
    cin4 = -(-g.cin_g // 4)
    k4 = g.kh * g.kw * cin4
    return cin4, -(-k4 // sg) * sg


def pack_weights_intel(w: np.ndarray, g: ConvGeometry, sg: int) -> np.ndarray:
    """uint32 ``[G][COUT_G/sg][K4PAD][sg]``: lane = output channel, 4 int8 along K packed per word.

    k4 = (kh*KW + kw)*CIN4 + ci//4, ci padded to a multiple of 4 with zeros; one
    ``intel_sub_group_block_read8`` then gives each lane 8 consecutive k4 words.
    """
    check_weights(w, g)
    cin4, k4pad = intel_k4(g, sg)
    cb = -(-g.cout_g // sg)
    wg = w.reshape(g.groups, g.cout_g, g.cin_g, g.kh, g.kw).transpose(0, 1, 3, 4, 2)  # G,COUT_G,KH,KW,CIN_G
    full = np.zeros((g.groups, cb * sg, g.kh, g.kw, cin4 * 4), np.int8)
    full[:, : g.cout_g, :, :, : g.cin_g] = wg
    words = full.reshape(g.groups, cb * sg, g.kh * g.kw * cin4 * 4).view(np.uint32)  # G, CO, K4
    packed = np.zeros((g.groups, cb * sg, k4pad), np.uint32)
    packed[:, :, : words.shape[2]] = words
    return np.ascontiguousarray(packed.reshape(g.groups, cb, sg, k4pad).transpose(0, 1, 3, 2))


def pack_weights_depthwise(w: np.ndarray, g: ConvGeometry, channel_pad: int = 1) -> np.ndarray:
    """int8 ``[KH*KW][Cpad]`` for depthwise convolution (Cpad = C rounded up to channel_pad)."""
    check_weights(w, g)
    cpad = -(-g.c // channel_pad) * channel_pad
    out = np.zeros((g.kh * g.kw, cpad), np.int8)
    out[:, : g.c] = w.reshape(g.c, g.kh * g.kw).T
    return out


def pack_weights_depthwise_vnni(w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """int8 ``[NG][KW][C][4]`` (NG = ceil(KH/4)): byte r of channel c's word at (g, kw) is the weight
    of kernel row 4g + r at column kw, zero past KH (see ``cl_kernels/dwconv_vnni_taps.cl``)."""
    check_weights(w, g)
    ng = -(-g.kh // 4)
    rows = np.zeros((g.c, ng * 4, g.kw), np.int8)
    rows[:, : g.kh] = w.reshape(g.c, g.kh, g.kw)
    return np.ascontiguousarray(rows.reshape(g.c, ng, 4, g.kw).transpose(1, 3, 0, 2))


def dw_vnni_applies(g: ConvGeometry, info) -> bool:
    """Whether a depthwise layer may add its taps on 512-bit vpdpbusd: 16 channels per work-item
    (Intel's CPU runtime), in full blocks, a last half block overlapping the one before it."""
    return info.vector_width == 16 and g.c % 16 in (0, 8) and g.c >= 16


def whole_rows_local_size(grid: tuple[int, int, int], compute_units: int, max_size: int) -> tuple[int, int, int]:
    """Work-groups of whole output rows for a (channel blocks, pixel tiles, rows) grid on Intel's
    CPU runtime, about 16 groups per core: it dispatches work-groups one by one, so small groups
    cost a dispatch each (depthwise 3x3 on 16 channels at 320x320: one work-item per group 0.48
    ms, a row per group 0.32; 48 channels at 160x160 0.29 / 0.25).  Fewer rows than two a core
    leave cores idle: a row's channel blocks are then split among groups of three blocks or more
    (PP-OCRv4 rec's 5x5 on 480 channels at 3x80: 3 groups 0.044 ms, 6 groups 0.034)."""
    blocks, tiles, rows = grid
    if blocks * tiles > max_size:  # a row is more than a group may hold
        return 1, 1, 1
    units = max(compute_units, 1)
    split = next((d for d in range(2, blocks // 3 + 1) if blocks % d == 0 and rows * d >= 2 * units), 1) \
        if rows < 2 * units else 1
    return blocks // split, tiles, max(1, min(rows // (16 * units), max_size // (blocks * tiles)))


def portable_local_size(n_tiles: int, m_tiles: int) -> tuple[int, int]:
    """Work-group shape of the portable GEMM.  CPU runtimes run a work-group on one core
    (PoCL's default is a single group for the whole grid, hence always explicit): 8 row
    tiles sharing one weight slab for tall GEMMs; for few rows (M=49 layers) 4 x 4, so
    there are enough groups for every core and each weight slab is reused 4 times."""
    if m_tiles >= 32:
        return (1, 8)
    return (min(4, n_tiles), min(4, m_tiles))


def default_intel_tile(g: ConvGeometry, sg: int) -> int:
    """Pixels per subgroup for the Intel family: as many as fit the 128 registers without spilling."""
    if g.is_depthwise:
        return 4  # 8 makes IGC retry a SIMD16 compile that spilled
    return 8


# -- kernels ---------------------------------------------------------------------------------

class ConvKernel:
    """One int8 convolution bound to a device and a kernel family ("intel" or "portable").

    Activations are ``nhwc`` (portable) or ``fsv16`` (intel), see :mod:`.layouts`.
    ``weights`` int8 (COUT, CIN_G, KH, KW); ``comp`` int32, ``mscale``/``bias`` float32, all per
    output channel; ``out`` one of u8, i8, i32, f32; ``lo``/``hi`` the fused activation range.
    ``tile``: pixels per work-item (portable) or per subgroup (intel).  ``dot_mode`` (intel):
    0 plain 4-term multiply-add (IGC emits dp4a), 1 ``dot_acc_sat_4x8packed_*``, 2 ``dot_4x8packed_*``.
    ``variant`` (portable): ``auto``, or the GEMM kernel to use, ``vnni`` (where the device runs it;
    grouped layers then take the automatic choice), ``dot`` or ``float``.  Depthwise layers add their
    taps on vpdpbusd with ``auto`` or ``vnni`` where :func:`dw_vnni_applies` and the device runs it
    (``name`` ``dwconv_vnni``), on plain multiply-adds otherwise.
    ``name`` is the kernel it runs (``conv_gemm_vnni``, ``dwconv_portable``, ...).
    ``out_at`` (vnni kernel only): C expressions ``(OUT_ROW(m), OUT_COL(c), OUT_CH(c))``: GEMM row
    m, channel c is stored at OUT_ROW(m) + OUT_COL(c) and takes channel OUT_CH(c)'s constants
    (see conv_gemm_vnni.cl).
    """

    def __init__(self, device, family: str, geom: ConvGeometry, weights: np.ndarray, comp: np.ndarray,
                 mscale: np.ndarray, bias: np.ndarray, *, act_dtype=np.uint8, out: str = "u8",
                 lo: int | None = None, hi: int | None = None, pad_value: int = 0,
                 subgroup_size: int = 16, tile: int | None = None, dot_mode: int = 0,
                 variant: str = "auto", local_size: tuple[int, ...] | None = None,
                 epilogue: FusedEpilogue | None = None, out_at: tuple[str, str, str] | None = None):
        if family not in ("intel", "portable"):
            raise ValueError(f"unknown kernel family '{family}'")
        if out not in OUT_TYPES and not (out == "epilogue" and epilogue is not None):
            raise ValueError(f"out must be one of {', '.join(OUT_TYPES)}, or 'epilogue' with an epilogue")
        self.device, self.family, self.geom = device, family, geom
        self.act_dtype = np.dtype(act_dtype)
        act_t = ACT_TYPES[self.act_dtype]
        if out == "epilogue":
            out_t, out_mode, self.out_dtype = epilogue.out_type, 3, np.dtype(_CL_OUT[epilogue.out_type])
        else:
            out_t, out_mode, self.out_dtype = OUT_TYPES[out]
        self.epilogue = epilogue if out == "epilogue" else None
        info = np.iinfo(self.out_dtype) if out in ("u8", "i8") else None
        self.lo = np.int32(info.min if lo is None and info else (lo if lo is not None else 0))
        self.hi = np.int32(info.max if hi is None and info else (hi if hi is not None else 0))
        self.layout = "fsv16" if family == "intel" else "nhwc"
        alloc = device.allocator
        self.depthwise = geom.is_depthwise
        self.variant = None  # the portable GEMM kernel: "vnni", "dot" or "float"
        self.dw_vnni = False  # a depthwise layer whose taps add up on vpdpbusd (dwconv_vnni_taps.cl)
        if family == "portable":
            self.variant = self._portable_variant(variant)
            if self.depthwise:
                self.dw_vnni = dw_vnni_applies(geom, device.info) and variant in ("auto", "vnni") and \
                    vnni_supported(device.info, device.cache.directory)
            if self.act_dtype == np.int8 and (self.dw_vnni or (self.variant in ("dot", "vnni") and not self.depthwise)):
                # the dot and vnni kernels read x + 128 (sign bit flipped): take 128 * sum(w[c]) back off
                flip = 128 * weights.reshape(geom.cout, -1).astype(np.int64).sum(axis=1)
                comp = (np.asarray(comp, np.int64).reshape(-1) - flip).astype(np.int32)
        # zero-padded to whole blocks where kernels read them a block at a time (the vnni kernel's
        # last block of a layer whose channels are not a multiple of 16; with groups padded to
        # whole blocks, each group's last block, which reads on into the next group's)
        cpad = blocks(geom.cout) * BLOCK if family == "intel" or self.variant == "vnni" else geom.cout
        comp = np.asarray(comp, np.int32).reshape(geom.cout)
        if self.variant == "vnni" and geom.groups > 1 and vnni_group_channels(geom) != geom.cout_g:
            comp, cpad = gemm_channels(comp, geom), cpad + BLOCK
            defines_gp = {"COUT_GP": vnni_group_channels(geom)}
        else:
            defines_gp = {}

        def per_channel(a, dtype):
            a = np.asarray(a, dtype).reshape(-1)
            v = np.zeros(max(cpad, a.size), dtype)
            v[: a.size] = a
            return v

        self._channel_params = per_channel(comp, np.int32), per_channel(mscale, np.float32), \
            per_channel(bias, np.float32)
        # the portable family's kernels but the dot one take all their constants in one buffer
        packs = family == "portable" and (self.depthwise or self.variant != "dot")
        if not packs:
            self._comp, self._m, self._b = (alloc.from_numpy(v) for v in self._channel_params)
        defines = dict(ACT_T=act_t, OUT_T=out_t, OUT_MODE=out_mode, **geom.geometry_defines(), **defines_gp)
        if out_at is not None:
            if self.variant != "vnni":
                raise ValueError("only the vnni kernel stores outputs elsewhere than row-major")
            defines.update({"OUT_ROW(m)": out_at[0], "OUT_COL(c)": out_at[1], "OUT_CH(c)": out_at[2]})
        self._program_kw = {}
        self._extra: tuple = ()
        if self.epilogue is not None:
            defines.update({"EPI_STORE(acc,c,off)": self.epilogue.store, "EPI_ARGS": self.epilogue.params})
            if self.epilogue.store8:
                defines["EPI_STORE8(acc8,c,off)"] = self.epilogue.store8
            if self.epilogue.store4:
                defines["EPI_STORE4(acc4,c,off)"] = self.epilogue.store4
            if self.epilogue.store16:  # kernels holding 16 channels in a vector (vnni, dwconv with CV=16)
                defines["EPI_STORE16(acc16,c,off)"] = self.epilogue.store16
            if self.epilogue.prefetch:
                defines["EPI_PREFETCH(off,n)"] = self.epilogue.prefetch
            self._program_kw = {"prelude": self.epilogue.prelude}
            if not packs:
                consts = self.epilogue.consts if self.epilogue.consts.size else np.zeros(1, np.float32)
                self._extra = (alloc.from_numpy(np.asarray(consts, np.float32)),)
        pad = np.array([pad_value], np.int64).astype(self.act_dtype)
        self.im2col = None  # (x_buf, cols_buf) -> [launch], where the kernel reads gathered windows
        self.cols_nbytes = 0
        self._own_cols = None
        if family == "portable":
            self._init_portable(defines, weights, pad, tile, local_size)
        else:
            self._init_intel(defines, weights, pad, subgroup_size, tile, dot_mode, local_size)

    def _portable_variant(self, variant: str) -> str:
        info, g = self.device.info, self.geom
        if variant not in ("auto", *PORTABLE_VARIANTS):
            raise ValueError(f"unknown portable variant '{variant}' (one of auto, {', '.join(PORTABLE_VARIANTS)})")
        vnni = variant in ("auto", "vnni") and vnni_supported(info, self.device.cache.directory)
        if variant == "vnni" and not vnni:
            raise ValueError(f"the vnni kernel needs Intel's CPU runtime on a CPU with AVX-512 VNNI, "
                             f"not {info.label()}")
        # "vnni" where the layer has one group, the automatic choice for the others
        min_run = DOT_MIN_RUN_KEPT_LOOP if info.keeps_work_items_apart else DOT_MIN_RUN
        return portable_variant(g, info.is_gpu, vnni, min_run) if variant in ("auto", "vnni") else variant

    def _build(self, kernel_name: str, defines: dict, opts: list[str], **kw):
        """Kernel ``kernel_name`` of ``cl_kernels/<kernel_name>.cl``; it names what this object runs."""
        self.name = kernel_name
        return self.device.program(f"{kernel_name}.cl", kernel_name, defines, opts, **kw)

    # -- portable --

    def _init_portable(self, defines, weights, pad, tile, local_size):
        g = self.geom
        opts = ["-cl-std=CL1.2"]
        if self.depthwise:
            no_wi_vec = self.device.info.keeps_work_items_apart
            # channels per work-item (zmm on Intel's runtime); channels ending with a half block
            # of 8 (PP-OCR cls's 88, 104, 200) take 16 at a time, the last block overlapping the
            # one before it (HALF_TAIL in dwconv_portable.cl)
            wide = self.device.info.vector_width == 16
            half_tail = wide and g.c > 16 and g.c % 16 == 8
            cv = 16 if wide and (g.c % 16 == 0 or half_tail) else 8
            # pixels per work-item: 8 where there are few channel blocks or small windows on wide rows
            # (Intel's runtime, 4 / 8 pixels: 16 channels at 320x320 0.85 / 0.55 ms; 3x3 on 48
            # channels at 160x160 0.32 / 0.26, on 192 at 40x40 0.19 / 0.16), else 4 (5x5 on 192
            # channels at 40x40 0.34 / 0.48; 3x3 on 384 at 20x20 0.065 / 0.076)
            self.tile = tile or (8 if g.c <= 2 * cv or (g.kw <= 3 and g.ow >= 40) else 4)
            if self.dw_vnni and not tile:  # input columns shared by more pixels; 4 on narrow or strided rows
                # (5x5 on 240 channels at 12x80: 8 / 4 pixels 0.063 / 0.070 ms; on 384 at 20x20 0.052 / 0.050)
                self.tile = 8 if g.ow >= 40 and g.stride[1] == 1 else 4
            defines.update(TW=self.tile, CV=cv, NO_WI_VECTORIZE=int(no_wi_vec))
            if no_wi_vec:
                opts = [self.device.info.cl_std_option]
            if self.dw_vnni:
                defines.update(DW_VNNI=1, ACT_FLIP=int(self.act_dtype == np.int8))
                w = pack_weights_depthwise_vnni(weights, g)
            else:
                w = pack_weights_depthwise(weights, g)
            defines["HALF_TAIL"] = int(half_tail)
            self._params = self._pack_params(w, pad, defines)
            # a program apart: its vectors change how the compiler builds the dot-product kernels
            self._prog = self._build("dwconv_portable", defines, opts, group="dwconv", **self._program_kw)
            cvec = -(-g.c // cv)
            self._global = (cvec, -(-g.ow // self.tile), g.n * g.oh)
            info = self.device.info
            self._local = local_size or (whole_rows_local_size(self._global, info.compute_units,
                                                               info.max_work_group_size)
                                         if no_wi_vec else (min(cvec, 4), 1, 1))
            if self.dw_vnni:
                self.name = "dwconv_vnni"  # dwconv_portable.cl with its taps on vpdpbusd
        elif self.variant == "dot":
            self._init_dot(defines, weights, pad, tile, local_size)
            return
        elif self.variant == "vnni":
            self._init_vnni(defines, weights, pad, tile, local_size)
            return
        else:
            self.tile = tile or 6
            defines.update(TM=self.tile, NPAD=npad16(g.cout_g))
            self._params = self._pack_params(pack_weights_portable(weights, g), pad, defines)
            self._prog = self._build("conv_gemm_portable", defines, opts, **self._program_kw)
            ntiles = g.groups * npad16(g.cout_g) // 16
            self._global = (ntiles, -(-g.m // self.tile))
            self._local = local_size or portable_local_size(ntiles, self._global[1])
        self._args = lambda x, y: (x, self._params, y, np.int32(g.m), self.lo, self.hi)

    def _pack_params(self, weights, pad, defines: dict, extra: dict | None = None):
        """One buffer of the weights (packed for the kernel) and the per-channel constants, the
        zero-point row, an epilogue's constants and ``extra`` parts (``cl_kernels/conv_params.cl``);
        their offsets go into ``defines``."""
        comp, mscale, bias = self._channel_params
        g = self.geom
        parts = {"COMP": comp, "MSCALE": mscale, "BIAS": bias,
                 "PAD": np.full(max(g.cin_g, g.c), pad[0], self.act_dtype)}
        if self.epilogue is not None:
            parts["EPI_K"] = np.asarray(self.epilogue.consts, np.float32)
            defines["EPI_ARGS"] = self.epilogue.operand_params
        packed, offsets = pack_constants({**parts, **(extra or {}), "W": weights})
        defines.update(offset_macros(offsets))
        return self.device.allocator.from_numpy(packed)

    def _init_dot(self, defines, weights, pad, tile, local_size):
        g, alloc, info = self.geom, self.device.allocator, self.device.info
        # 4 x 4 int32 sums per work-item: with the operand rows they fill the 32 vector registers
        self.tile, tn = tile or 4, 4
        cout_gp = -(-g.cout_g // tn) * tn
        # PoCL does not vectorize across work-items when a work-group is one work-item
        no_wi_vec = info.keeps_work_items_apart
        opts = [info.cl_std_option] if no_wi_vec else ["-cl-std=CL1.2"]
        flip = int(self.act_dtype == np.int8)
        self._pad = alloc.from_numpy(np.full(max(g.cin_g, g.c), pad[0], self.act_dtype))
        gemm_geom, kp = g, None
        if needs_im2col(g):
            gemm_geom, kp = self._init_im2col(defines, opts, no_wi_vec)
            flip = 0  # the gathered windows hold x + 128 already
        defines.update(TM=self.tile, TN=tn, COUT_GP=cout_gp, ACT_FLIP=flip, NO_WI_VECTORIZE=int(no_wi_vec),
                       KEEP_DOT_LOOP=int(no_wi_vec), ROW_RUNS=int(row_runs(gemm_geom)))
        self._w = alloc.from_numpy(pack_weights_dot(weights, g, tn, kp))
        self._prog = self._build("conv_gemm_dot", defines, opts, **self._program_kw)
        self._global = (g.groups * cout_gp // tn, -(-g.m // self.tile))
        self._local = local_size or (None if no_wi_vec else (1, 1))
        self._args = lambda x, y: (x, self._w, self._comp, self._m, self._b, y, self._pad,
                                   np.int32(gemm_geom.m), self.lo, self.hi)

    def _init_im2col(self, defines, opts, no_wi_vec) -> tuple[ConvGeometry, int]:
        """Gather windows first (cl_kernels/im2col.cl, rows of KP bytes, a multiple of 16, as u8
        with signed inputs flipped); the GEMM then runs as a 1x1 convolution over them."""
        g = self.geom
        kp = -(-g.k // 16) * 16
        cdefs = dict(ACT_T=defines["ACT_T"], ACT_FLIP=int(self.act_dtype == np.int8), NO_WI_VECTORIZE=int(no_wi_vec),
                     KP=kp, **g.geometry_defines())
        prog = self.device.program("im2col.cl", "im2col", cdefs, opts)
        self.cols_nbytes = g.m * g.groups * kp
        cglobal, clocal = (g.groups, g.m), (None if no_wi_vec else (1, 1))
        self.im2col = lambda x, cols: [prog.prepare(x, cols, self._pad, np.int32(g.m), global_size=cglobal,
                                                    local_size=clocal)]
        gemm_geom = ConvGeometry(g.n, g.groups * kp, g.oh, g.ow, g.cout, groups=g.groups)
        defines.update(ACT_T="uchar", **gemm_geom.geometry_defines())
        return gemm_geom, kp

    def _init_vnni(self, defines, weights, pad, tile, local_size):
        g, info = self.geom, self.device.info
        if g.groups > 1:
            tnb, half = vnni_group_blocks(g), False
            packed = pack_weights_vnni_groups(weights, g, tnb)
        else:
            tnb, half = vnni_channel_blocks(g.cout), vnni_half_block(g.cout)
            packed = pack_weights_vnni(weights, g, tnb, half)
        # tiles whose windows lie inside the input read them as one run of words (a stem's)
        words = window_words(g)
        extra = {"W_WINDOW": pack_weights_vnni(weights, g, tnb, half, window=True)} if words else {}
        self.tile = tile or fitted_rows(g.m, vnni_rows(tnb + half, self.act_dtype == np.int8))
        opts = [info.cl_std_option]
        gemm_cout = g.groups * vnni_group_channels(g) if g.groups > 1 else g.cout
        grid = (1 if half else -(-gemm_cout // (16 * tnb)), -(-g.m // self.tile))
        local = local_size or vnni_local_size(grid, info.compute_units, packed.nbytes)
        # a work-group of one channel block: the grid runs row tiles first, so the runtime takes
        # the groups of one block one after another and the cores read its weights at the same
        # time, once from memory (ResNet-50's 512 -> 512 3x3 at 7x7, 2.4 MB of weights: 0.176 ->
        # 0.164 ms in a running plan; VGG-19's 3x3 layers 1-2%)
        tiles_first = local[0] == 1
        self._global, self._local = (grid[::-1], local[::-1]) if tiles_first else (grid, local)
        defines.update(TM=self.tile, TNB=tnb, HALF=int(half), ACT_FLIP=int(self.act_dtype == np.int8),
                       WINDOW_WORDS=words, TILES_FIRST=int(tiles_first))
        self._params = self._pack_params(packed, pad, defines, extra)
        self._prog = self._build("conv_gemm_vnni", defines, opts, **self._program_kw)
        self._args = lambda x, y: (x, self._params, y, np.int32(g.m), self.lo, self.hi)

    # -- intel --

    def _init_intel(self, defines, weights, pad, sg, tile, dot_mode, local_size):
        g, alloc, info = self.geom, self.device.allocator, self.device.info
        if sg not in info.subgroup_sizes:
            raise ValueError(f"subgroup size {sg} not supported by {info.label()}")
        self.subgroup_size = sg
        if local_size is not None and (local_size[0] % sg or any(d != 1 for d in local_size[1:])):
            raise ValueError(f"Intel-family local size must be (k*{sg}, 1[, 1]), got {local_size}")
        opts = [info.cl_std_option if info.opencl_c_major >= 2 else "-cl-std=CL2.0"]
        pad_word = np.frombuffer(np.repeat(pad.view(np.uint8), 4).tobytes(), np.uint32)[0]
        defines.update(SG=sg, ACT_IS_SIGNED=int(self.act_dtype == np.int8))
        if self.depthwise:
            self.tile = tile or default_intel_tile(g, sg)
            defines.update(TW=self.tile)
            self._w = alloc.from_numpy(pack_weights_depthwise(weights, g, channel_pad=BLOCK))
            self._prog = self._build("dwconv_intel", defines, opts, **self._program_kw)
            lanes = blocks(g.c) * BLOCK
            self._global = (lanes, -(-g.ow // self.tile), g.n * g.oh)
            self._local = local_size or (sg, 1, 1)
            self._args = lambda x, y: (x, self._w, self._comp, self._m, self._b, y, np.int32(pad[0]),
                                       self.lo, self.hi)
            return
        cin4, k4pad = intel_k4(g, sg)
        self.tile = tile or default_intel_tile(g, sg)
        aligned = g.groups == 1 or g.cin_g % 4 == 0
        defines.update(TP=self.tile, CIN4=cin4, K4PAD=k4pad, DOT_MODE=dot_mode,
                       BYTE_GATHER=int(not aligned), PADDED=int(g.is_padded), COUT_BLOCKS=-(-g.cout_g // sg))
        self._w = alloc.from_numpy(pack_weights_intel(weights, g, sg))
        self._prog = self._build("conv_gemm_intel", defines, opts, **self._program_kw)
        lanes = g.groups * (-(-g.cout_g // sg)) * sg
        self._global = (lanes, -(-g.m // self.tile))
        self._local = local_size or (sg, 1)
        self._args = lambda x, y: (x, self._w, self._comp, self._m, self._b, y, np.uint32(pad_word),
                                   np.int32(g.m), self.lo, self.hi)

    # -- running --

    def binary(self) -> bytes:
        """The device binary of the program that holds this convolution's kernel."""
        return self._prog.binary()

    def output_shape(self) -> tuple[int, ...]:
        from .layouts import physical_shape

        g = self.geom
        return physical_shape(self.layout, g.n, g.cout, g.oh, g.ow)

    def input_shape(self) -> tuple[int, ...]:
        from .layouts import physical_shape

        g = self.geom
        return physical_shape(self.layout, g.n, g.c, g.h, g.w)

    def __call__(self, x_buf, y_buf, *operands, wait: bool = False):
        """Enqueue the convolution on ``x_buf`` -> ``y_buf``; returns the last launch (with its profiling event).

        ``operands``: the buffers a fused epilogue reads besides its constants (residual inputs).
        """
        launches = [launch.enqueue() for launch in self.prepare(x_buf, y_buf, *operands)]
        if wait:
            launches[-1].event.wait()
        return launches[-1]

    # launches with their buffers bound once (PreparedLaunch); a plan enqueues them on every run

    def prepare(self, x_buf, y_buf, *operands) -> list:
        """The whole convolution's launches; where the kernel gathers windows first (``im2col``),
        into a buffer of its own (a plan calls :attr:`im2col` and :meth:`gemm` with one it plans)."""
        if self.im2col is None:
            return self.gemm(x_buf, y_buf, *operands)
        if self._own_cols is None:
            self._own_cols = self.device.allocator.alloc(self.cols_nbytes)
        return self.im2col(x_buf, self._own_cols) + self.gemm(self._own_cols, y_buf, *operands)

    def gemm(self, x_buf, y_buf, *operands) -> list:
        """The convolution proper, on ``x_buf`` (the gathered windows where :attr:`im2col` is set)."""
        args = self._args(x_buf, y_buf) + self._extra + tuple(operands)
        return [self._prog.prepare(*args, global_size=self._global, local_size=self._local)]
