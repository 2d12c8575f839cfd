"""Host side of the small kernels: pooling, eltwise add, quantize/dequantize, reorder, softmax.

Each class binds one kernel of ``cl_kernels`` to a device, a layout and a shape;
calling it enqueues the launch and returns it (with its profiling event).  They run
on every OpenCL device (plain OpenCL C 1.2) and serve both kernel families.
"""

from __future__ import annotations

import numpy as np

from .conv_kernels import ACT_TYPES, OUT_TYPES
from .layouts import LAYOUT_CODES, physical_shape

_OPTS = ["-cl-std=CL1.2"]
_LOCAL = 64


def _range(out: str | None, lo, hi) -> tuple[np.int32, np.int32]:
    if out in ("u8", "i8"):
        info = np.iinfo(OUT_TYPES[out][2])
        return np.int32(info.min if lo is None else lo), np.int32(info.max if hi is None else hi)
    return np.int32(0 if lo is None else lo), np.int32(0 if hi is None else hi)


def _channels(alloc, values, c: int, dtype):
    return alloc.from_numpy(np.broadcast_to(np.asarray(values, dtype), (c,)).copy())


def _elements(layout: str, n: int, c: int, h: int, w: int) -> int:
    return int(np.prod(physical_shape(layout, n, c, h, w)))


class Pool:
    """Max or average pooling of an int8 tensor (N, C, H, W) in ``layout``.

    ``kind`` "max" (output = input type) or "avg" (requantized with per-channel ``mscale``,
    ``bias`` into ``out``; padded taps add ``pad_value`` unless ``exclude_pad``).
    """

    def __init__(self, device, kind: str, layout: str, n: int, c: int, h: int, w: int, kernel: tuple[int, int],
                 stride: tuple[int, int], pads_begin=(0, 0), pads_end=(0, 0), *, act_dtype=np.uint8,
                 exclude_pad: bool = True, out: str = "u8", mscale=1.0, bias=0.0, pad_value: int = 0,
                 lo=None, hi=None):
        if kind not in ("max", "avg"):
            raise ValueError(f"pool kind must be max or avg, not '{kind}'")
        self.kind, self.layout, self.n, self.c = kind, layout, n, c
        self.oh = (h + pads_begin[0] + pads_end[0] - kernel[0]) // stride[0] + 1
        self.ow = (w + pads_begin[1] + pads_end[1] - kernel[1]) // stride[1] + 1
        act_t = ACT_TYPES[np.dtype(act_dtype)]
        out_t, out_mode, self.out_dtype = OUT_TYPES[out] if kind == "avg" else (act_t, 0, np.dtype(act_dtype))
        defines = dict(ACT_T=act_t, OUT_T=out_t, OUT_MODE=out_mode, LAYOUT=LAYOUT_CODES[layout], C=c, IH=h, IW=w,
                       OH=self.oh, OW=self.ow, KH=kernel[0], KW=kernel[1], SH=stride[0], SW=stride[1],
                       PH=pads_begin[0], PW=pads_begin[1], PEH=pads_end[0], PEW=pads_end[1],
                       EXCLUDE_PAD=int(exclude_pad))
        self._prog = device.program("pool.cl", f"{kind}_pool", defines, _OPTS)
        self._global = (c, self.ow, n * self.oh)
        if kind == "avg":
            lo, hi = _range(out, lo, hi)
            alloc = device.allocator
            self._extra = (_channels(alloc, mscale, c, np.float32), _channels(alloc, bias, c, np.float32),
                           np.int32(n), np.int32(pad_value), lo, hi)
        else:
            self._extra = (np.int32(n),)

    def output_shape(self) -> tuple[int, ...]:
        return physical_shape(self.layout, self.n, self.c, self.oh, self.ow)

    def __call__(self, x_buf, y_buf, wait: bool = False):
        return self._prog(x_buf, y_buf, *self._extra, global_size=self._global, local_size=None, wait=wait)


class _Elementwise:
    """Shared launch shape of the kernels that walk the physical elements of one tensor."""

    def _setup(self, layout: str, n: int, c: int, h: int, w: int):
        self.layout, self.shape = layout, physical_shape(layout, n, c, h, w)
        self.elements = _elements(layout, n, c, h, w)
        self._global = (-(-self.elements // _LOCAL) * _LOCAL,)


class EltwiseAdd(_Elementwise):
    """``q = sat(rint((a*ma[c] + b*mb[c]) + bias[c]))`` of two int8 tensors in the same layout."""

    def __init__(self, device, layout: str, n: int, c: int, h: int, w: int, ma, mb, bias, *,
                 a_dtype=np.uint8, b_dtype=np.uint8, out: str = "u8", lo=None, hi=None):
        self._setup(layout, n, c, h, w)
        out_t, out_mode, self.out_dtype = OUT_TYPES[out]
        defines = dict(A_T=ACT_TYPES[np.dtype(a_dtype)], B_T=ACT_TYPES[np.dtype(b_dtype)], OUT_T=out_t,
                       OUT_MODE=out_mode, LAYOUT=LAYOUT_CODES[layout], C=c, H=h, W=w)
        self._prog = device.program("eltwise.cl", "eltwise_add", defines, _OPTS)
        alloc = device.allocator
        lo, hi = _range(out, lo, hi)
        self._extra = (_channels(alloc, ma, c, np.float32), _channels(alloc, mb, c, np.float32),
                       _channels(alloc, bias, c, np.float32), np.int32(n), lo, hi)

    def __call__(self, a_buf, b_buf, y_buf, wait: bool = False):
        return self._prog(a_buf, b_buf, y_buf, *self._extra, global_size=self._global,
                          local_size=(_LOCAL,), wait=wait)


class Quantize(_Elementwise):
    """float32 -> u8/i8: ``q = sat(rint(x * (1/scale[c]) + zp[c]))``, clamped to [lo, hi]."""

    def __init__(self, device, layout: str, n: int, c: int, h: int, w: int, scale, zero_point, *,
                 out: str = "u8", lo=None, hi=None):
        self._setup(layout, n, c, h, w)
        out_t, out_mode, self.out_dtype = OUT_TYPES[out]
        defines = dict(Q_T=out_t, OUT_T=out_t, OUT_MODE=out_mode, LAYOUT=LAYOUT_CODES[layout], C=c, H=h, W=w)
        self._prog = device.program("quantize.cl", "quantize", defines, _OPTS)
        alloc = device.allocator
        inv = (np.float32(1) / np.broadcast_to(np.asarray(scale, np.float32), (c,))).astype(np.float32)
        lo, hi = _range(out, lo, hi)
        self._extra = (alloc.from_numpy(inv), _channels(alloc, zero_point, c, np.float32), np.int32(n), lo, hi)

    def __call__(self, x_buf, y_buf, wait: bool = False):
        return self._prog(x_buf, y_buf, *self._extra, global_size=self._global, local_size=(_LOCAL,), wait=wait)


class Dequantize(_Elementwise):
    """u8/i8 -> float32: ``f = (q - zp[c]) * scale[c]``."""

    def __init__(self, device, layout: str, n: int, c: int, h: int, w: int, scale, zero_point, *,
                 q_dtype=np.uint8):
        self._setup(layout, n, c, h, w)
        defines = dict(Q_T=ACT_TYPES[np.dtype(q_dtype)], OUT_T="float", OUT_MODE=2, LAYOUT=LAYOUT_CODES[layout],
                       C=c, H=h, W=w)
        self._prog = device.program("quantize.cl", "dequantize", defines, _OPTS)
        alloc = device.allocator
        self._extra = (_channels(alloc, zero_point, c, np.int32), _channels(alloc, scale, c, np.float32),
                       np.int32(n))
        self.out_dtype = np.float32

    def __call__(self, q_buf, y_buf, wait: bool = False):
        return self._prog(q_buf, y_buf, *self._extra, global_size=self._global, local_size=(_LOCAL,), wait=wait)


_CL_TYPES = {np.dtype(np.uint8): "uchar", np.dtype(np.int8): "char", np.dtype(np.int32): "int",
             np.dtype(np.float32): "float"}


class Reorder(_Elementwise):
    """Copy a tensor (N, C, H, W) from layout ``src`` to layout ``dst`` (fsv16 padding = ``pad_value``)."""

    def __init__(self, device, src: str, dst: str, n: int, c: int, h: int, w: int, dtype, pad_value: int = 0):
        self._setup(dst, n, c, h, w)
        self.out_dtype = np.dtype(dtype)
        defines = dict(T=_CL_TYPES[self.out_dtype], SRC_LAYOUT=LAYOUT_CODES[src], DST_LAYOUT=LAYOUT_CODES[dst],
                       C=c, H=h, W=w, PAD_VALUE=pad_value)
        self._prog = device.program("reorder.cl", "reorder", defines, _OPTS)
        self._n = np.int32(n)

    def __call__(self, src_buf, dst_buf, wait: bool = False):
        return self._prog(src_buf, dst_buf, self._n, global_size=self._global, local_size=(_LOCAL,), wait=wait)


class Softmax:
    """Float softmax over the last axis of a (rows, length) float32 tensor."""

    def __init__(self, device, rows: int, length: int):
        self.rows, self.length = rows, length
        self._prog = device.program("softmax.cl", "softmax", dict(L=length), _OPTS)

    def __call__(self, x_buf, y_buf, wait: bool = False):
        return self._prog(x_buf, y_buf, np.int32(self.rows), global_size=(self.rows,), local_size=None, wait=wait)
