"""ShuffleChannels-1: views ``axis`` as ``[group, C / group]`` and transposes it to
``[C / group, group]``."""

from __future__ import annotations

from gpu_int8.ops.base import Attr, Op


class ShuffleChannels(Op):
    attributes = {"axis": Attr("int", 1), "group": Attr("int", 1)}

    @classmethod
    def run(cls, node, x):
        axis, group = cls.attr(node, "axis"), cls.attr(node, "group")
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"axis {axis} is out of range for rank {x.ndim}")
        axis %= x.ndim
        if group < 1 or x.shape[axis] % group:
            raise ValueError(f"{x.shape[axis]} channels do not split into {group} groups")
        split = x.shape[:axis] + (group, x.shape[axis] // group) + x.shape[axis + 1:]
        return (x.reshape(split).swapaxes(axis, axis + 1).reshape(x.shape),)
