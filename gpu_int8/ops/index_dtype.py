"""Index element types of ops with an index output (MaxPool, TopK)."""

from __future__ import annotations

import numpy as np

_OPENVINO_NAMES = {"i32": np.int32, "i64": np.int64, "u32": np.uint32, "u64": np.uint64}


def index_dtype(value) -> np.dtype:
    """NumPy dtype of an ``index_element_type`` attribute: an OpenVINO name (i32, i64) or a dtype."""
    if isinstance(value, str) and value.lower() in _OPENVINO_NAMES:
        return np.dtype(_OPENVINO_NAMES[value.lower()])
    dtype = np.dtype(value)
    if dtype.kind not in "iu":
        raise ValueError(f"index_element_type {value} is not an integer type")
    return dtype
