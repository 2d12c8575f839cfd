"""Squeeze: drop size-1 dimensions: those in the optional ``axes`` input, else all.

An axis whose dimension is not 1 is left in place, as OpenVINO (Squeeze-1) does.
"""

from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list, normalize_axis


class Squeeze(_ShapeParamsOp):
    shape_inputs = (1,)

    @classmethod
    def run(cls, node, data, axes=None):
        if axes is None:
            drop = {i for i, d in enumerate(data.shape) if d == 1}
        else:
            drop = {normalize_axis(a, data.ndim) for a in int_list(axes)}
            drop = {i for i in drop if data.shape[i] == 1}
        return (data.reshape([d for i, d in enumerate(data.shape) if i not in drop]),)
