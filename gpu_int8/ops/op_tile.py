"""Tile: repeat ``data`` ``repeats`` times per axis; the shorter of the two is
padded with leading 1s (NumPy's tile rule)."""

import numpy as np

from gpu_int8.ops.shape_params import _ShapeParamsOp, int_list


class Tile(_ShapeParamsOp):
    shape_inputs = (1,)

    @classmethod
    def run(cls, node, data, repeats):
        repeats = int_list(repeats)
        if any(r < 0 for r in repeats):
            raise ValueError(f"Tile repeats {repeats} must not be negative")
        return (np.tile(data, repeats) if repeats else data.copy(),)
