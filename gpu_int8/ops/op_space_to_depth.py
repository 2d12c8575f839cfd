"""SpaceToDepth-1: folds ``block_size`` blocks of each spatial axis into channels.
``blocks_first``: output channels ``[bs, ..., bs, C]``; ``depth_first``: ``[C, bs, ..., bs]``."""

from __future__ import annotations

from gpu_int8.ops.base import Attr, Op

MODES = ("blocks_first", "depth_first")


class SpaceToDepth(Op):
    attributes = {"block_size": Attr("int", 1), "mode": Attr("str")}

    @classmethod
    def run(cls, node, x):
        bs, mode = cls.attr(node, "block_size"), str(cls.attr(node, "mode")).lower()
        n, c, space = x.shape[0], x.shape[1], x.shape[2:]
        k = len(space)
        if mode not in MODES or bs < 1 or any(d % bs for d in space):
            raise ValueError(f"cannot SpaceToDepth {list(x.shape)} with block_size {bs}, mode '{mode}'")
        split = (n, c) + tuple(v for d in space for v in (d // bs, bs))
        blocks = [3 + 2 * i for i in range(k)]
        outer = [2 + 2 * i for i in range(k)]
        order = [0] + (blocks + [1] if mode == "blocks_first" else [1] + blocks) + outer
        y = x.reshape(split).transpose(order)
        return (y.reshape((n, c * bs ** k) + tuple(d // bs for d in space)),)
