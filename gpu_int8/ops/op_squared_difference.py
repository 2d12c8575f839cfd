"""SquaredDifference: (a - b)^2 with NumPy broadcasting."""

from gpu_int8.ops.elementwise import _Binary


class SquaredDifference(_Binary):
    @classmethod
    def fn(cls, node, a, b):
        return (a - b) * (a - b)
