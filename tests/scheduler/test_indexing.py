"""Index arithmetic of generated kernels: divisions by constants as multiplications."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gpu_int8.scheduler.compile.indexing import udiv_expr


def _evaluate(expr: str, n: np.ndarray) -> np.ndarray:
    """The value of a udiv_expr result (shift, mul_hi or division) for uint32 values ``n``."""
    n = n.astype(np.uint64)
    if m := re.fullmatch(r"\(n >> (\d+)\)", expr):
        return n >> np.uint64(m[1])
    if m := re.fullmatch(r"\(mul_hi\(n, (\d+)u\) >> (\d+)\)", expr):
        return ((n * np.uint64(m[1])) >> np.uint64(32)) >> np.uint64(m[2])
    m = re.fullmatch(r"\(n / (\d+)u\)", expr)
    assert m, expr
    return n // np.uint64(m[1])


@pytest.mark.parametrize("d", [1, 2, 3, 7, 24, 96, 100, 640, 1920, 409600, 1228800, 2457600, 1000003, 2**31 - 1])
def test_udiv_exact_over_the_index_range(d):
    n_max = 1 << 28
    expr = udiv_expr("n", d, n_max)
    rng = np.random.default_rng(d)
    k = np.arange(1, 4000, dtype=np.int64)
    n = np.concatenate([rng.integers(0, n_max, 200_000), np.arange(5000), k * d - 1, k * d, [n_max - 1]])
    n = n[(n >= 0) & (n < n_max)]
    np.testing.assert_array_equal(_evaluate(expr, n), n.astype(np.uint64) // np.uint64(d), err_msg=expr)


def test_udiv_kinds():
    assert udiv_expr("n", 64, 1 << 20) == "(n >> 6)"
    assert "mul_hi" in udiv_expr("n", 96, 1 << 20)
    with pytest.raises(ValueError):
        udiv_expr("n", 0, 10)
