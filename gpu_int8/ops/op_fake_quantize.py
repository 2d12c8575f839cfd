"""FakeQuantize-1: quantize x to ``levels`` steps of [input_low, input_high],
map them onto [output_low, output_high]; round half to even, per the spec."""

import numpy as np

from gpu_int8.ops.base import Attr, Op


class FakeQuantize(Op):
    attributes = {"levels": Attr("int"), "auto_broadcast": Attr("str", "numpy")}
    foldable = False  # a FakeQuantize on a weight constant stays visible to LPT

    @classmethod
    def run(cls, node, x, input_low, input_high, output_low, output_high):
        levels = cls.attr(node, "levels")
        x = x.astype(np.float32)
        il, ih = input_low.astype(np.float32), input_high.astype(np.float32)
        ol, oh = output_low.astype(np.float32), output_high.astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.round((x - il) / (ih - il) * (levels - 1))
            y = q / (levels - 1) * (oh - ol) + ol
        y = np.where(x <= np.minimum(il, ih), ol, np.where(x > np.maximum(il, ih), oh, y))
        return (y.astype(np.float32),)
