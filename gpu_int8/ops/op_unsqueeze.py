"""Unsqueeze: insert size-1 dimensions at ``axes`` (counted in the output's rank)."""

from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list, normalize_axis


class Unsqueeze(_ShapeParamsOp):
    shape_inputs = (1,)

    @classmethod
    def run(cls, node, data, axes):
        axes = int_list(axes)
        rank = data.ndim + len(axes)
        new = sorted(normalize_axis(a, rank) for a in axes)
        if len(set(new)) != len(new):
            raise ValueError(f"Unsqueeze axes {axes} repeat an axis")
        shape = list(data.shape)
        for axis in new:
            shape.insert(axis, 1)
        return (data.reshape(shape),)
