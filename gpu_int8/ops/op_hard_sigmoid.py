"""HardSigmoid: max(0, min(1, alpha * x + beta)); alpha and beta are scalar inputs."""

import numpy as np

from gpu_int8.ops.base import Op, as_float


class HardSigmoid(Op):
    @classmethod
    def run(cls, node, x, alpha, beta):
        xf = as_float(x)
        y = np.asarray(alpha, xf.dtype) * xf + np.asarray(beta, xf.dtype)
        return (np.clip(y, 0, 1).astype(x.dtype),)
