"""ShapeOf: the input's shape as a 1-D tensor of ``output_type`` (i64 or i32; ShapeOf-1 is i64).

Shapes are static, so the shape pass folds it from the input's shape alone
(``value_from_shapes``) even when the input is not a constant.
"""

import numpy as np

from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.element_types import to_dtype


class ShapeOf(Op):
    attributes = {"output_type": Attr("dtype", "i64")}

    @classmethod
    def run(cls, node, x):
        return (np.array(x.shape, dtype=cls._dtype(node)),)

    @classmethod
    def value_from_shapes(cls, node, inputs) -> tuple:
        """The output, from the static shape of input Value ``inputs[0]``."""
        return (np.array(inputs[0].shape, dtype=cls._dtype(node)),)

    @classmethod
    def infer(cls, node, inputs):
        return [((len(inputs[0].shape),), cls._dtype(node))]

    @classmethod
    def _dtype(cls, node) -> np.dtype:
        dtype = to_dtype(cls.attr(node, "output_type"))
        if dtype not in (np.dtype(np.int64), np.dtype(np.int32)):
            raise ValueError(f"ShapeOf output_type must be i64 or i32, got {cls.attr(node, 'output_type')}")
        return dtype
