"""StridedSlice-1: NumPy-style basic slicing driven by begin/end/stride inputs and masks.

Entry i of begin/end/stride (and bit i of each mask) describes one slicing
spec, in OpenVINO's meaning:

* ``begin_mask[i]``/``end_mask[i]`` = 1: ignore begin[i]/end[i], take the whole
  extent (from the last element when the stride is negative);
* ``new_axis_mask[i]``: insert a size-1 axis here (consumes no input axis);
* ``shrink_axis_mask[i]``: take the single index begin[i] and drop the axis
  (begin_mask[i] is ignored, as in OpenVINO's reference and TensorFlow;
  OpenVINO 2026.4's CPU kernel takes index 0 instead);
* ``ellipsis_mask[i]``: stand for as many full axes as are not otherwise named
  (at most one); without one, unnamed trailing axes are taken whole.

Bounds follow OpenVINO's slice plan: a negative index adds the dimension,
then begin clips to [0, dim] ([0, dim-1] for a negative stride) and end to
[0, dim] ([-1, dim] for a negative stride) -- so unlike Python, x[-9::-1]
with dim 5 still yields x[0].
"""

from __future__ import annotations

import numpy as np

from gpu_int8.ops.base import Attr
from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list


class StridedSlice(_ShapeParamsOp):
    attributes = {
        "begin_mask": Attr("ints"),
        "end_mask": Attr("ints"),
        "new_axis_mask": Attr("ints", ()),
        "shrink_axis_mask": Attr("ints", ()),
        "ellipsis_mask": Attr("ints", ()),
    }
    shape_inputs = (1, 2, 3)

    @classmethod
    def run(cls, node, data, begin, end, stride=None):
        begin, end = int_list(begin), int_list(end)
        stride = [1] * len(begin) if stride is None else int_list(stride)
        if not len(begin) == len(end) == len(stride):
            raise ValueError(f"begin {begin}, end {end} and stride {stride} differ in length")
        masks = {name: _bits(cls.attr(node, name), len(begin)) for name in cls.attributes}
        index = slice_index(data.shape, begin, end, stride, **masks)
        return (np.array(data[index]),)


def _bits(mask, n: int) -> list[bool]:
    mask = [bool(int(m)) for m in (mask or ())]
    return (mask + [False] * n)[:n]


def slice_index(shape: tuple, begin: list[int], end: list[int], stride: list[int], *, begin_mask, end_mask,
                new_axis_mask, shrink_axis_mask, ellipsis_mask) -> tuple:
    """A NumPy basic index (ints, slices, None) equal to the StridedSlice spec."""
    if sum(ellipsis_mask) > 1:
        raise ValueError("StridedSlice allows at most one ellipsis")
    real = sum(1 for i in range(len(begin)) if not ellipsis_mask[i] and not new_axis_mask[i])
    if real > len(shape):
        raise ValueError(f"StridedSlice names {real} axes of a rank-{len(shape)} input")
    ellipsis_size = len(shape) - real
    index: list = []
    axis = 0
    for i in range(len(begin)):
        if ellipsis_mask[i]:
            index += [slice(None)] * ellipsis_size
            axis += ellipsis_size
        elif new_axis_mask[i]:
            index.append(None)
        elif shrink_axis_mask[i]:
            dim = shape[axis]
            if not -dim <= begin[i] < dim:
                raise ValueError(f"shrink index {begin[i]} is out of range for dimension {dim}")
            index.append(begin[i] + dim if begin[i] < 0 else begin[i])  # begin_mask does not apply
            axis += 1
        else:
            index.append(_bounded_slice(shape[axis], begin[i], end[i], stride[i], begin_mask[i], end_mask[i]))
            axis += 1
    return tuple(index)  # unnamed trailing axes are taken whole by NumPy


def _bounded_slice(dim: int, begin: int, end: int, stride: int, ignore_begin: bool, ignore_end: bool) -> slice:
    if stride == 0:
        raise ValueError("StridedSlice stride must not be 0")
    reverse = stride < 0
    if ignore_begin:
        begin = dim - 1 if reverse else 0
    elif begin < 0:
        begin += dim
    begin = max(0, min(dim - 1 if reverse else dim, begin))
    if ignore_end:
        end = -1 if reverse else dim
    elif end < 0:
        end += dim
    end = max(-1 if reverse else 0, min(dim, end))
    # a literal -1 end means "past index 0", which a Python slice spells None
    return slice(begin, None if end < 0 else end, stride)
