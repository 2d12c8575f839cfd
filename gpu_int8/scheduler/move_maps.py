"""Index maps of data-movement steps, computed at plan time from the op's own reference.

A move (Reshape, Transpose, Concat, Split, StridedSlice, Pad, DepthToSpace,
Gather with constant indices, nearest Interpolate, ...) copies stored values
without arithmetic.  Running the op's NumPy reference on *probe* tensors, whose
elements are their own (distinct) indices, shows where every output element
comes from: an element of some input, or a constant (the pad value).  A second
probe shifted by a constant tells the two apart, and a run on random data checks
that the op really is such a gather; ops that compute (linear interpolation,
indices read from a tensor) are refused, and the plan runs them on the host.

The maps address physical storage (:class:`~gpu_int8.scheduler.compile.indexing.Placement`),
so one generic kernel copies between any layouts.  Where the elements one input
gives one output form an N-D box whose source offsets are affine in the box
coordinates (Concat, Split, Slice, Transpose, Pad, ...), the copy needs no map
array at all (:class:`BoxCopy`); an identity map means the output can alias the
input's buffer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gpu_int8.schedule import Step
from gpu_int8.scheduler.compile.indexing import Placement

#: marks an output position a source does not write (another input's, or padding)
NOT_MINE = -2
#: marks an output position that takes the fill (pad) value
FILL = -1


class NotAGather(ValueError):
    """The op computes values (or reads indices from a tensor): no index map exists."""


@dataclass
class BoxCopy:
    """``out[out_base + sum(i_d * out_strides[d])] = in[in_base + sum(i_d * in_strides[d])]`` over the box ``dims``."""

    dims: tuple[int, ...]
    out_base: int
    out_strides: tuple[int, ...]
    in_base: int
    in_strides: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.dims, dtype=np.int64))


@dataclass
class SourceMap:
    """What input ``input`` (a position in ``step.inputs``) gives one output.

    ``map`` holds, per physical output position, the physical input offset, or
    :data:`NOT_MINE`; ``box`` the same as a :class:`BoxCopy` where possible.
    """

    input: int
    map: np.ndarray
    box: BoxCopy | None = None


@dataclass
class OutputMap:
    """How one output of a move step is filled: ``fill`` first (when set), then each source."""

    sources: list[SourceMap] = field(default_factory=list)
    fill: int | float | None = None
    alias_of: int | None = None  # input position whose buffer this output can share


def logical_maps(step: Step, in_shapes: list[tuple], dtype) -> list[tuple[np.ndarray, np.ndarray, object]]:
    """Per output: ``(which input, logical input index, fill value)`` arrays over the logical output.

    ``which`` is -1 where the output takes the constant fill value.  Raises
    :class:`NotAGather` when the op is not a pure gather of its tensor inputs.
    """
    sizes = [int(np.prod(s, dtype=np.int64)) for s in in_shapes]
    bases = np.cumsum([1] + sizes[:-1]).astype(np.int64)
    total = int(sum(sizes)) + 1

    def probe(shift):
        return [(np.arange(n, dtype=np.int64) + b + shift).reshape(s) for n, b, s in zip(sizes, bases, in_shapes)]

    first = _run(step, probe(0))
    second = _run(step, probe(total))
    maps = []
    for o1, o2 in zip(first, second):
        o1, o2 = np.asarray(o1).reshape(-1), np.asarray(o2).reshape(-1)
        if not (np.issubdtype(o1.dtype, np.integer) and o1.shape == o2.shape):
            raise NotAGather(f"{step.op_type} does not keep integer data")
        gathered = (o2 - o1) == total
        constant = o2 == o1
        if not np.all(gathered | constant):
            raise NotAGather(f"{step.op_type} computes new values")
        fill = None
        if np.any(constant):
            values = np.unique(o1[constant])
            if values.size != 1:
                raise NotAGather(f"{step.op_type} fills with several constants")
            fill = values[0].item()
        which = np.full(o1.shape, -1, np.int64)
        index = np.zeros(o1.shape, np.int64)
        v = o1[gathered]
        src = np.searchsorted(bases, v, side="right") - 1
        which[gathered] = src
        index[gathered] = v - bases[src]
        maps.append((which, index, fill))
    contributing = set().union(*(set(np.unique(w[w >= 0]).tolist()) for w, _, _ in maps)) if maps else set()
    if any(size for size in sizes) and contributing != {k for k, size in enumerate(sizes) if size}:
        # an input no output element comes from is a parameter (indices, a shape): not a plain move
        raise NotAGather(f"{step.op_type} reads a tensor input as a parameter")
    _verify(step, in_shapes, dtype, maps)
    return maps


def _run(step: Step, tensors: list[np.ndarray]) -> tuple:
    try:  # (an op with no definition fails here too)
        return step.run_op(tensors)
    except Exception as exc:  # noqa: BLE001 - any failure on probes means: not a gather
        raise NotAGather(f"{step.op_type} does not run on index probes: {exc}") from None


def _verify(step: Step, in_shapes, dtype, maps) -> None:
    """The maps must reproduce the op on random data of the stored type."""
    rng = np.random.default_rng(0)
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        data = [rng.integers(info.min, int(info.max) + 1, size=s, dtype=np.int64).astype(dtype) for s in in_shapes]
    else:
        data = [rng.standard_normal(s).astype(dtype) for s in in_shapes]
    results = _run(step, data)
    flat = [d.reshape(-1) for d in data]
    for out, (which, index, fill) in zip(results, maps):
        expect = np.asarray(out).reshape(-1)
        got = np.empty(expect.shape, dtype)
        for k, f in enumerate(flat):
            sel = which == k
            got[sel] = f[index[sel]]
        if fill is not None:
            got[which < 0] = np.asarray(fill).astype(dtype)
        if not np.array_equal(got, expect.astype(dtype, copy=False)):
            raise NotAGather(f"{step.op_type} is not a pure gather of its inputs")


def _logical_to_physical(p: Placement) -> np.ndarray:
    """Per logical element (row-major), its physical offset."""
    return p.from_physical(np.arange(p.physical_size, dtype=np.int64)).reshape(-1)


def output_maps(step: Step, inputs: list[Placement], outputs: list[Placement]) -> list[OutputMap]:
    """Physical copy plans of every output of a move step (see the module docstring)."""
    dtypes = {p.dtype for p in inputs + outputs}
    if len(dtypes) != 1:
        raise NotAGather("inputs and outputs differ in storage type")
    maps = logical_maps(step, [p.shape for p in inputs], inputs[0].np_dtype)
    in_phys = [_logical_to_physical(p) for p in inputs]
    result = []
    for (which, index, fill), out in zip(maps, outputs):
        if which.size != out.size:
            raise NotAGather(f"{step.op_type} output size differs from its tensor's shape")
        out_phys = _logical_to_physical(out)
        plan = OutputMap(fill=fill if np.any(which < 0) else None)
        for k in range(len(inputs)):
            sel = which == k
            if not np.any(sel):
                continue
            phys = np.full(out.physical_size, NOT_MINE, np.int64)
            phys[out_phys[sel]] = in_phys[k][index[sel]]
            phys32 = phys.astype(np.int32)
            plan.sources.append(SourceMap(k, phys32, box_of(phys, out.physical_shape)))
        if (plan.fill is None and len(plan.sources) == 1 and out.physical_size == inputs[plan.sources[0].input]
                .physical_size and np.array_equal(plan.sources[0].map, np.arange(out.physical_size))):
            plan.alias_of = plan.sources[0].input
        result.append(plan)
    return result


#: factors tried when splitting output axes to find a box (nearest upsampling by 2, 3, 4, 8)
SPLIT_FACTORS = (2, 3, 4, 8)


def box_of(phys: np.ndarray, out_shape: tuple[int, ...]) -> BoxCopy | None:
    """The :class:`BoxCopy` equal to map ``phys`` (entries >= 0 copied), or None when it is no affine box.

    A map that is affine only after splitting output axes - nearest upsampling by an integer
    factor f reads input row h for output rows f*h .. f*h+f-1 - is found by also trying the
    output shape with every axis divisible by f split into (size/f, f), the copy reading the
    f-axis with input stride 0.
    """
    box = _affine_box(phys, out_shape)
    if box is not None:
        return box
    for f in SPLIT_FACTORS:
        refined = tuple(v for dim in out_shape for v in ((dim // f, f) if dim % f == 0 and dim > f else (dim,)))
        if refined != tuple(out_shape) and (box := _affine_box(phys, refined)) is not None:
            return box
    return None


def _affine_box(phys: np.ndarray, out_shape: tuple[int, ...]) -> BoxCopy | None:
    positions = np.flatnonzero(phys >= 0)
    if positions.size == 0:
        return None
    shape = tuple(out_shape) if out_shape else (1,)
    coords = np.stack(np.unravel_index(positions, shape))
    lo, hi = coords.min(axis=1), coords.max(axis=1)
    dims = hi - lo + 1
    if int(np.prod(dims)) != positions.size:
        return None
    out_strides = np.array([int(np.prod(shape[d + 1:], dtype=np.int64)) for d in range(len(shape))], np.int64)
    values = phys[positions]
    base = int(values[0])
    rel = coords - lo[:, None]
    in_strides = np.zeros(len(shape), np.int64)
    for d in range(len(shape)):
        if dims[d] > 1:
            step_pos = int(np.ravel_multi_index(tuple(lo + np.eye(len(shape), dtype=np.int64)[d]), shape))
            in_strides[d] = int(phys[step_pos]) - base
    if not np.array_equal(values, base + in_strides @ rel):
        return None
    return _merged(BoxCopy(tuple(int(d) for d in dims), int(lo @ out_strides), tuple(int(s) for s in out_strides),
                           base, tuple(int(s) for s in in_strides)))


def _merged(box: BoxCopy) -> BoxCopy:
    """The same copy with size-1 axes dropped and contiguous axes merged (fewer index divisions)."""
    dims, outs, ins = [], [], []
    for d, o, i in zip(box.dims, box.out_strides, box.in_strides):
        if d == 1:
            continue
        if dims and outs[-1] == o * d and ins[-1] == i * d:
            dims[-1] *= d
            outs[-1], ins[-1] = o, i
            continue
        dims.append(d)
        outs.append(o)
        ins.append(i)
    if not dims:
        dims, outs, ins = [1], [1], [1]
    return BoxCopy(tuple(dims), box.out_base, tuple(outs), box.in_base, tuple(ins))
