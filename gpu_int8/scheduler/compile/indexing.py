"""How a plan stores a tensor (its layout) and the OpenCL index arithmetic for it.

A tensor of logical shape ``shape`` (NumPy order, e.g. NCHW) is stored

* ``plain``: row-major in logical order;
* ``nhwc``: 4-D, channels innermost (the portable convolution kernels' layout);
* ``fsv16``: 4-D, ``[N][ceil(C/16)][H][W][16]`` (the Intel kernels' layout; channels past
  C are padding that no kernel reads as data).

Generated kernels address elements through :meth:`Placement.offset` (logical
coordinates, as C expressions, to a physical element offset, with broadcasting)
and :meth:`Placement.decompose` (a physical element index to logical coordinates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpu_int8.scheduler.layouts import BLOCK, from_nchw, physical_shape, to_nchw

#: OpenCL C element type of each storage type kernels handle
CL_TYPES = {"u8": "uchar", "i8": "char", "f32": "float", "i32": "int"}
LAYOUTS = ("plain", "nhwc", "fsv16")


@dataclass(frozen=True)
class Placement:
    """Logical shape, storage type and layout of one tensor of a plan."""

    shape: tuple[int, ...]
    dtype: str  # schedule storage type: u8, i8, i32, f32, i64, bool
    layout: str = "plain"

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise ValueError(f"unknown layout '{self.layout}'")
        if self.layout != "plain" and len(self.shape) != 4:
            raise ValueError(f"layout {self.layout} needs a 4-D tensor, got {list(self.shape)}")

    @property
    def np_dtype(self) -> np.dtype:
        from gpu_int8.schedule.tensor import DTYPES

        return DTYPES[self.dtype]

    @property
    def cl_type(self) -> str:
        if self.dtype not in CL_TYPES:
            raise ValueError(f"no OpenCL kernel handles {self.dtype} tensors")
        return CL_TYPES[self.dtype]

    @property
    def physical_shape(self) -> tuple[int, ...]:
        if self.layout == "plain":
            return self.shape
        return physical_shape(self.layout, *self.shape)

    @property
    def size(self) -> int:
        """Logical element count."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def physical_size(self) -> int:
        return int(np.prod(self.physical_shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.physical_size * self.np_dtype.itemsize

    # -- host conversions --------------------------------------------------------------
    def to_physical(self, array: np.ndarray) -> np.ndarray:
        """A logical array as stored (fsv16 padding channels hold zeros)."""
        array = np.asarray(array, self.np_dtype).reshape(self.shape)
        return np.ascontiguousarray(array if self.layout == "plain" else from_nchw(array, self.layout))

    def from_physical(self, array: np.ndarray) -> np.ndarray:
        """The logical array of stored data."""
        array = np.asarray(array).reshape(self.physical_shape)
        if self.layout == "plain":
            return array
        return to_nchw(array, self.layout, self.shape[1])

    # -- index arithmetic ---------------------------------------------------------------
    def offset(self, coords: list[str], out_shape: tuple[int, ...] | None = None) -> str:
        """C expression of the physical element offset of the element at logical ``coords``.

        ``coords`` are coordinates in ``out_shape`` (default: this shape); this tensor
        broadcasts to it NumPy-style (size-1 and missing leading axes read index 0).
        """
        out_shape = tuple(self.shape if out_shape is None else out_shape)
        lead = len(out_shape) - len(self.shape)
        if lead < 0:
            raise ValueError(f"cannot broadcast {list(self.shape)} to {list(out_shape)}")
        mine = []
        for axis, dim in enumerate(self.shape):
            mine.append("0" if dim == 1 else f"({coords[lead + axis]})")
        if self.layout == "plain":
            strides = _row_major_strides(self.shape)
            terms = [f"{c}*{s}" for c, s in zip(mine, strides) if c != "0"]
            return " + ".join(terms) if terms else "0"
        n, c, h, w = mine
        _, C, H, W = self.shape
        if self.layout == "nhwc":
            terms = [(n, H * W * C), (h, W * C), (w, C), (c, 1)]
        else:
            cb = -(-C // BLOCK)
            terms = [(n, cb * H * W * BLOCK), (f"({c} >> 4)", H * W * BLOCK), (h, W * BLOCK), (w, BLOCK),
                     (f"({c} & 15)", 1)]
            if c == "0":
                terms = terms[:1] + terms[2:4]
        parts = [f"{e}*{s}" if s != 1 else e for e, s in terms if e != "0"]
        return " + ".join(parts) if parts else "0"

    def decompose(self, index: str, names: list[str]) -> tuple[list[str], str | None]:
        """Statements setting ``int`` variables ``names`` (logical coordinates) from the physical
        index ``index``, and a C condition that is true for padding positions (or None)."""
        if self.layout == "plain":
            return decompose_row_major(index, names, self.shape), None
        n, c, h, w = names
        _, C, H, W = self.shape
        if self.layout == "nhwc":
            order = [n, h, w, c]
            stmts = decompose_row_major(index, order, (self.shape[0], H, W, C))
            return stmts, None
        cb = -(-C // BLOCK)
        stmts = decompose_row_major(index, [n, f"{c}_b", h, w, f"{c}_l"], (self.shape[0], cb, H, W, BLOCK))
        stmts.append(f"const int {c} = {c}_b * {BLOCK} + {c}_l;")
        return stmts, (f"{c} >= {C}" if C % BLOCK else None)


def _row_major_strides(shape) -> list[int]:
    strides, acc = [], 1
    for dim in reversed(shape):
        strides.append(acc)
        acc *= int(dim)
    return strides[::-1]


def decompose_row_major(index: str, names: list[str], shape) -> list[str]:
    """``const int name = ...`` for each axis of a row-major ``shape`` from flat ``index`` (below
    the shape's size).

    Divisions by the constant strides are multiplications (:func:`udiv_expr`): CPU
    runtimes that vectorize work-items call a library routine for a vector integer division.
    """
    strides = _row_major_strides(shape)
    total = int(np.prod(shape, dtype=np.int64))
    if not names:
        return []
    rest = f"{names[0]}_rest"
    stmts = [f"uint {rest} = (uint)({index});"]
    for name, dim, stride in zip(names, shape, strides):
        if dim == 1:
            stmts.append(f"const int {name} = 0;")
            continue
        if stride == 1:
            stmts.append(f"const int {name} = (int){rest};")
            continue
        stmts.append(f"const int {name} = (int){udiv_expr(rest, stride, total)}; {rest} -= (uint){name} * {stride}u;")
    return stmts


def udiv_expr(n: str, d: int, n_max: int) -> str:
    """C expression of ``n / d`` for an unsigned ``n`` below ``n_max`` and a constant ``d``: a shift
    for a power of two, else ``mul_hi(n, M) >> s`` with ``M = ceil(2^(32+s) / d)``, exact when
    ``n_max * (M*d - 2^(32+s)) < 2^(32+s)`` (the error never reaches the next integer)."""
    d = int(d)
    if d <= 0:
        raise ValueError(f"division by {d}")
    if d & (d - 1) == 0:
        return f"({n} >> {d.bit_length() - 1})"
    for s in range(32):
        two = 1 << (32 + s)
        m = -(-two // d)
        if m >= 1 << 32:
            break
        if n_max * (m * d - two) < two:
            return f"(mul_hi({n}, {m}u) >> {s})"
    return f"({n} / {d}u)"
