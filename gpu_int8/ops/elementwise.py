"""Shared machinery of the elementwise op files (no op registers here).

Unary ops map a float function over the input; binary ops broadcast their two
inputs per ``auto_broadcast`` ("numpy", or "none" for equal shapes) and keep the
first input's dtype; comparisons give booleans.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from gpu_int8.ops.base import Attr, Op


def check_broadcast(mode: str, *arrays: np.ndarray) -> None:
    """Reject inputs that ``auto_broadcast`` does not allow to be combined."""
    mode = str(mode).lower()
    if mode == "none":
        shapes = {tuple(a.shape) for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"auto_broadcast=none needs equal shapes, got {[list(a.shape) for a in arrays]}")
    elif mode == "numpy":
        np.broadcast_shapes(*(a.shape for a in arrays))
    else:
        raise ValueError(f"auto_broadcast={mode!r} is not supported (numpy or none)")


def float_compute_type(x: np.ndarray) -> np.dtype:
    """float64 input stays float64; every other input is computed in float32."""
    return np.dtype(np.float64) if x.dtype == np.float64 else np.dtype(np.float32)


class _Unary(Op):
    """y = f(x) computed in float32 (float64 for float64 input), cast back to x's dtype.

    Integer inputs are computed in float64 and truncated, like a C cast of the
    float result (OpenVINO's reference does the same for most unary ops),
    unless ``exact_on_integers`` says ``fn`` is an integer function too.
    """

    exact_on_integers: ClassVar[bool] = False

    @classmethod
    def fn(cls, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def run(cls, node, x):
        if np.issubdtype(x.dtype, np.floating):
            y = cls.fn(x.astype(float_compute_type(x), copy=False))
            return (np.asarray(y).astype(x.dtype, copy=False),)
        if cls.exact_on_integers or x.dtype == np.bool_:
            return (np.asarray(cls.fn(x)).astype(x.dtype, copy=False),)
        y = cls.fn(x.astype(np.float64))
        return (np.asarray(np.trunc(y)).astype(x.dtype),)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in x's float dtype."""
    try:
        from scipy.special import erf as scipy_erf  # scipy comes with scikit-image
    except ImportError:  # slow but exact
        import math
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    return scipy_erf(x).astype(x.dtype, copy=False)


class _Binary(Op):
    """y = f(a, b) with broadcasting; the result has a's dtype."""

    attributes: ClassVar[dict[str, Attr]] = {"auto_broadcast": Attr("str", "numpy")}

    @classmethod
    def fn(cls, node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def run(cls, node, a, b):
        check_broadcast(cls.attr(node, "auto_broadcast"), a, b)
        if b.dtype != a.dtype:
            b = b.astype(a.dtype)
        return (np.asarray(cls.fn(node, a, b)).astype(a.dtype, copy=False),)


class _Comparison(Op):
    """y = a <op> b with broadcasting; boolean result."""

    attributes: ClassVar[dict[str, Attr]] = {"auto_broadcast": Attr("str", "numpy")}
    ufunc: ClassVar[np.ufunc]

    @classmethod
    def run(cls, node, a, b):
        check_broadcast(cls.attr(node, "auto_broadcast"), a, b)
        return (np.asarray(cls.ufunc(a, b)).astype(np.bool_, copy=False),)


class _Logical(_Comparison):
    """Boolean binary op; inputs are read as booleans (non-zero is true)."""

    @classmethod
    def run(cls, node, a, b):
        return super().run(node, a.astype(np.bool_, copy=False), b.astype(np.bool_, copy=False))
