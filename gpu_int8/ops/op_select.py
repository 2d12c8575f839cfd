"""Select: ``then`` where ``cond`` is true, ``else`` elsewhere; NumPy broadcasting
(auto_broadcast=numpy) or equal shapes (none).  The result has ``then``'s dtype."""

import numpy as np

from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.elementwise import check_broadcast


class Select(Op):
    attributes = {"auto_broadcast": Attr("str", "numpy")}

    @classmethod
    def run(cls, node, cond, then, else_):
        check_broadcast(cls.attr(node, "auto_broadcast"), cond, then, else_)
        return (np.where(cond.astype(np.bool_, copy=False), then, else_.astype(then.dtype, copy=False)),)
