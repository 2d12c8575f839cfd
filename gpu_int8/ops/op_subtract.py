"""Subtract: a - b with NumPy broadcasting."""

from gpu_int8.ops.elementwise import _Binary


class Subtract(_Binary):
    @classmethod
    def fn(cls, node, a, b):
        return a - b
