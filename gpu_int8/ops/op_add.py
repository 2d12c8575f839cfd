"""Add: elementwise sum with NumPy broadcasting (auto_broadcast=numpy, or none for equal shapes)."""

from gpu_int8.ops.elementwise import _Binary


class Add(_Binary):
    @classmethod
    def fn(cls, node, a, b):
        return a + b
