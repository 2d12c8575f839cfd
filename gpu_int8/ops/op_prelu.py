"""PRelu: x for x >= 0, slope * x otherwise.

A 1-D ``slope`` whose size equals the channel dimension (axis 1; axis 0 for
1-D data) applies per channel, as OpenVINO's reference does; any other slope
broadcasts the NumPy way.
"""

import numpy as np

from gpu_int8.ops.base import Op


class PRelu(Op):
    @classmethod
    def run(cls, node, x, slope):
        slope = np.asarray(slope).astype(x.dtype, copy=False)
        channel_axis = 1 if x.ndim > 1 else 0
        if slope.ndim == 1 and x.ndim > 0 and slope.shape[0] == x.shape[channel_axis]:
            shape = [1] * x.ndim
            shape[channel_axis] = slope.shape[0]
            slope = slope.reshape(shape)
        np.broadcast_shapes(x.shape, slope.shape)
        return (np.where(x < 0, x * slope, x).astype(x.dtype, copy=False),)
