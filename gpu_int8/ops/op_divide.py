"""Divide: a / b with NumPy broadcasting.

For integers ``m_pythondiv`` (OpenVINO's IR name; the spec calls it
m_pythondivision, which is read too) picks floor division when true (the
default) and truncation toward zero otherwise.  Integer division by zero gives
0 here (undefined in OpenVINO).
"""

import numpy as np

from gpu_int8.ops.base import Attr
from gpu_int8.ops.elementwise import _Binary


class Divide(_Binary):
    attributes = {"auto_broadcast": Attr("str", "numpy"), "m_pythondiv": Attr("bool", True)}

    @classmethod
    def fn(cls, node, a, b):
        if np.issubdtype(a.dtype, np.floating):
            return a / b
        python_division = node.attrs.get("m_pythondivision", cls.attr(node, "m_pythondiv"))
        safe_b = np.where(b == 0, 1, b).astype(a.dtype)
        floor = np.floor_divide(a, safe_b)
        if not python_division:
            inexact = (floor * safe_b) != a
            floor = floor + (inexact & ((a < 0) != (safe_b < 0)))
        return np.where(b == 0, 0, floor)
