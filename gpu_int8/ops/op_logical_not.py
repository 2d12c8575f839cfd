"""LogicalNot: boolean negation (non-zero input counts as true)."""

import numpy as np

from gpu_int8.ops.base import Op


class LogicalNot(Op):
    @classmethod
    def run(cls, node, x):
        return (np.logical_not(x),)
