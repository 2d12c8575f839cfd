"""The dot-product GEMM for CPU devices (``cl_kernels/conv_gemm_dot.cl``): when it runs a
convolution, and how it reads its windows and weights.

Its inner loop is one u8 x i8 -> int32 dot product per output, which CPU compilers
vectorize as a reduction (VNNI ``vpdpbusd``); every dot product ends in a horizontal sum,
so short ones stay on the float32 kernel.
"""

from __future__ import annotations

import numpy as np

from .conv_geometry import ConvGeometry, check_weights
from .vnni_gemm import vnni_applies


def pack_weights_dot(w: np.ndarray, g: ConvGeometry, tn: int, kp: int | None = None) -> np.ndarray:
    """int8 ``[G][COUT_GP][KP]`` (k = (kh*KW + kw)*CIN_G + ci), output channels zero-padded to a
    multiple of tn, k zero-padded to kp (default K)."""
    check_weights(w, g)
    cout_gp = -(-g.cout_g // tn) * tn
    wg = w.reshape(g.groups, g.cout_g, g.cin_g, g.kh, g.kw).transpose(0, 1, 3, 4, 2)  # G,COUT_G,KH,KW,CIN_G
    out = np.zeros((g.groups, cout_gp, kp or g.k), np.int8)
    out[:, : g.cout_g, : g.k] = wg.reshape(g.groups, g.cout_g, g.k)
    return out


#: shortest dot product (contiguous terms per output) for which the dot-product kernel pays off:
#: each one ends in a horizontal sum (PoCL 3.1, ResNet-50 with K=64 layers on it: 94 ms, not: 90)
DOT_MIN_RUN = 128
#: the same where the kernel's loop is kept from full unrolling (KEEP_DOT_LOOP, Intel's runtime):
#: 1x1 over M pixels x K -> N, Gop/s dot vs float: K=64 230 vs 135, K=48 158 vs 121, K=40 99 vs 132
DOT_MIN_RUN_KEPT_LOOP = 48


#: the GEMM kernels of the portable family's CPU path
PORTABLE_VARIANTS = ("float", "dot", "vnni")


def portable_variant(g: ConvGeometry, on_gpu: bool = False, vnni: bool = False, min_run: int = DOT_MIN_RUN) -> str:
    """Which portable GEMM kernel runs a convolution: "vnni" (512-bit VNNI, see vnni_gemm.py)
    where the device runs it (``vnni``) and the kernel takes the layer (:func:`vnni_applies`:
    one group, or groups it pads to whole blocks); else "dot" (integer dot
    products, vectorized by the CPU compiler into 128-bit VNNI / pmaddwd; each output is one
    dot product over its KH*KW*CIN_G terms, or KH runs of KW*CIN_G) when that product is long
    enough (``min_run`` terms), else "float" (exact float32 FMA blocks over 16 output channels).
    GPUs get "float": the dot kernel's one-work-item groups would leave a GPU idle."""
    if on_gpu:
        return "float"
    if vnni and vnni_applies(g):
        return "vnni"
    return "dot" if g.k >= min_run else "float"


def row_runs(g: ConvGeometry) -> bool:
    """Whether the dot-product kernel reads each kernel row's taps as one contiguous NHWC run
    (one group, no dilation, a long enough run): no gathered copy of the windows needed."""
    return g.kw > 1 and g.groups == 1 and g.dilation == (1, 1) and g.kw * g.cin_g >= DOT_MIN_RUN


#: gathered windows up to this size stay in the CPU caches: one dot product per output beats
#: KH runs (ResNet-50's 56x56 3x3 convolutions, 1.8 MB: 1.18 ms instead of 1.35); larger
#: ones cost more memory traffic than the runs (PP-OCRv4 det's 22 MB: 9.7 ms instead of 4.8)
IM2COL_MAX_BYTES = 2 << 20


def needs_im2col(g: ConvGeometry) -> bool:
    """Whether the dot-product kernel runs on gathered windows: KxK convolutions without row runs,
    or whose windows fit :data:`IM2COL_MAX_BYTES`."""
    return g.kh * g.kw > 1 and (not row_runs(g) or g.m * g.groups * g.k <= IM2COL_MAX_BYTES)
