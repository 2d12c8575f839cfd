"""Identity: passes its input through (for readers that keep the node)."""

from gpu_int8.ops.base import Op


class Identity(Op):
    @classmethod
    def run(cls, node, x):
        return (x,)
