"""OpenVINO element types and conversion between them, as OpenVINO's Convert does it.

Seen with OpenVINO 2026.4 (CPU plugin and constant folding agree): float to
integer truncates toward zero, then wraps modulo 2^bits of the destination
(f32 -2.5 -> u8 254, 300.0 -> u8 44); integer to integer wraps; anything to
boolean is ``x != 0``.  Float values beyond the int64 range, infinities and
NaN have no portable result (OpenVINO gives INT_MIN-like values); here they
saturate to the int64 range (NaN -> 0) before wrapping.
"""

from __future__ import annotations

import numpy as np

#: OpenVINO element type name -> NumPy dtype.  bf16 has no NumPy dtype: values
#: are rounded to bf16 precision and kept in float32.
OV_ELEMENT_TYPES: dict[str, np.dtype] = {
    "f64": np.dtype(np.float64), "f32": np.dtype(np.float32), "f16": np.dtype(np.float16),
    "bf16": np.dtype(np.float32),
    "i64": np.dtype(np.int64), "i32": np.dtype(np.int32), "i16": np.dtype(np.int16), "i8": np.dtype(np.int8),
    "u64": np.dtype(np.uint64), "u32": np.dtype(np.uint32), "u16": np.dtype(np.uint16), "u8": np.dtype(np.uint8),
    "i4": np.dtype(np.int8), "u4": np.dtype(np.uint8), "u1": np.dtype(np.uint8),
    "boolean": np.dtype(np.bool_),
}

# spellings seen in older IRs and in OpenVINO's Python API
_ALIASES = {"fp64": "f64", "fp32": "f32", "fp16": "f16", "bool": "boolean", "i1": "boolean"}


def element_type_name(spec) -> str:
    """The OpenVINO element type name of ``spec`` (a name such as "f32", or a NumPy dtype)."""
    if isinstance(spec, str):
        name = spec.strip().lower()
        name = _ALIASES.get(name, name)
        if name in OV_ELEMENT_TYPES:
            return name
        try:
            spec = np.dtype(name)
        except TypeError:
            raise ValueError(f"unknown element type {spec!r}") from None
    dtype = np.dtype(spec)
    for name, known in OV_ELEMENT_TYPES.items():
        if known == dtype and name not in ("bf16", "i4", "u4", "u1"):
            return name
    raise ValueError(f"no OpenVINO element type for dtype {dtype}")


def to_dtype(spec) -> np.dtype:
    """The NumPy dtype that holds element type ``spec`` (name or dtype)."""
    return OV_ELEMENT_TYPES[element_type_name(spec)]


def is_low_precision_int(dtype) -> bool:
    """i8/u8 (and i4/u4, which are held unpacked in i8/u8): the types of quantized weights."""
    return np.dtype(dtype) in (np.dtype(np.int8), np.dtype(np.uint8))


def convert(x: np.ndarray, spec) -> np.ndarray:
    """``x`` converted to element type ``spec`` with OpenVINO's Convert semantics."""
    name = element_type_name(spec)
    dst = OV_ELEMENT_TYPES[name]
    x = np.asarray(x)
    if name == "boolean":
        return x != 0
    if name == "bf16":
        return round_to_bf16(x.astype(np.float32))
    if np.issubdtype(dst, np.integer) and np.issubdtype(x.dtype, np.floating):
        wide = np.nan_to_num(np.trunc(x.astype(np.float64)), nan=0.0)
        # the largest float64 below 2^63, so the int64 cast is defined; then wrap to dst
        ints = np.clip(wide, -(2.0**63), np.nextafter(2.0**63, 0)).astype(np.int64)
        return ints.astype(dst)
    return x.astype(dst)


def round_to_bf16(x: np.ndarray) -> np.ndarray:
    """float32 values rounded (to nearest even) to bfloat16 precision, still float32."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = rounded.astype(np.uint32).view(np.float32)
    return np.where(np.isnan(x), x, out)
