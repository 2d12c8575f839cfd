"""Round-5: round to an integral value; ``mode`` half_to_even or half_away_from_zero."""

import numpy as np

from gpu_int8.ops.base import Attr, Op


class Round(Op):
    attributes = {"mode": Attr("str")}

    @classmethod
    def run(cls, node, x):
        if not np.issubdtype(x.dtype, np.floating):
            return (x.copy(),)
        mode = str(cls.attr(node, "mode")).lower()
        if mode == "half_to_even":
            return (np.rint(x),)
        if mode == "half_away_from_zero":
            # not floor(|x| + 0.5): that sum rounds up for the float just below 0.5
            whole = np.trunc(x)
            return ((whole + np.sign(x) * (np.abs(x - whole) >= 0.5)).astype(x.dtype),)
        raise ValueError(f"Round mode {mode!r} is not half_to_even or half_away_from_zero")
