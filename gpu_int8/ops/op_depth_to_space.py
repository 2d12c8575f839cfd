"""DepthToSpace-1: moves ``block_size**k`` channel blocks into the k spatial axes.
``blocks_first``: channels are ``[bs, ..., bs, C']``; ``depth_first``: ``[C', bs, ..., bs]``."""

from __future__ import annotations

from gpu_int8.ops.base import Attr, Op

MODES = ("blocks_first", "depth_first")


class DepthToSpace(Op):
    attributes = {"block_size": Attr("int", 1), "mode": Attr("str")}

    @classmethod
    def run(cls, node, x):
        bs, mode = cls.attr(node, "block_size"), str(cls.attr(node, "mode")).lower()
        n, c, space = x.shape[0], x.shape[1], x.shape[2:]
        k = len(space)
        if mode not in MODES or bs < 1 or c % bs ** k:
            raise ValueError(f"cannot DepthToSpace {list(x.shape)} with block_size {bs}, mode '{mode}'")
        depth = c // bs ** k
        if mode == "blocks_first":
            y = x.reshape((n,) + (bs,) * k + (depth,) + space)
            order = [0, k + 1] + [a for i in range(k) for a in (k + 2 + i, 1 + i)]
        else:
            y = x.reshape((n, depth) + (bs,) * k + space)
            order = [0, 1] + [a for i in range(k) for a in (k + 2 + i, 2 + i)]
        return (y.transpose(order).reshape((n, depth) + tuple(d * bs for d in space)),)
