"""Slice-8: ``data[start:stop:step]`` on ``axes`` (default: the first len(start) axes).

Out-of-range start/stop clamp like ONNX Slice: after adding the dimension to
negative values, start clips to [0, dim] ([0, dim-1] for a negative step) and
stop to [0, dim] ([-1, dim-1] for a negative step).
"""


from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list, normalize_axis


class Slice(_ShapeParamsOp):
    shape_inputs = (1, 2, 3, 4)

    @classmethod
    def run(cls, node, data, start, stop, step, axes=None):
        start, stop, step = int_list(start), int_list(stop), int_list(step)
        axes = list(range(len(start))) if axes is None else int_list(axes)
        if not len(start) == len(stop) == len(step) == len(axes):
            raise ValueError(f"start {start}, stop {stop}, step {step} and axes {axes} differ in length")
        index = [slice(None)] * data.ndim
        seen = set()
        for begin, end, stride, axis in zip(start, stop, step, axes):
            axis = normalize_axis(axis, data.ndim)
            if axis in seen:
                raise ValueError(f"Slice axes {axes} repeat axis {axis}")
            seen.add(axis)
            if stride == 0:
                raise ValueError("Slice step must not be 0")
            dim = data.shape[axis]
            begin, end = begin + dim if begin < 0 else begin, end + dim if end < 0 else end
            if stride > 0:
                begin, end = max(0, min(dim, begin)), max(0, min(dim, end))
            else:
                begin, end = max(0, min(dim - 1, begin)), max(-1, min(dim - 1, end))
            index[axis] = slice(begin, None if end < 0 else end, stride)
        return (data[tuple(index)].copy(),)
