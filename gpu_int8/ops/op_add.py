"""Add: elementwise sum with NumPy broadcasting (auto_broadcast=numpy)."""

from gpu_int8.ops.base import Attr, Op


class Add(Op):
    attributes = {"auto_broadcast": Attr("str", "numpy")}

    @classmethod
    def run(cls, node, a, b):
        return ((a + b).astype(a.dtype),)
