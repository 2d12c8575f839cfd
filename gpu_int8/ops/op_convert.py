"""Convert: change the element type to ``destination_type`` (OpenVINO names: f32,
f16, bf16, f64, i8, u8, i16, u16, i32, u32, i64, u64, boolean; a NumPy dtype is
accepted too).  Float to integer truncates toward zero and wraps; see
:mod:`gpu_int8.ops.element_types`.

A Convert of an i8/u8 (or unpacked i4/u4) constant to a float type is not
folded: it is the head of a quantized weight chain (i8 Constant -> Convert ->
[Subtract] -> Multiply) that LPT must see.
"""

import numpy as np

from gpu_int8.ops.base import Attr, Op
from gpu_int8.ops.element_types import convert, is_low_precision_int, to_dtype


class Convert(Op):
    attributes = {"destination_type": Attr("dtype")}

    @classmethod
    def can_fold(cls, node, inputs) -> bool:
        return not is_weight_decompression(inputs[0].dtype, to_dtype(cls.attr(node, "destination_type")))

    @classmethod
    def run(cls, node, x):
        return (convert(x, cls.attr(node, "destination_type")),)


def is_weight_decompression(src, dst) -> bool:
    """Whether converting ``src`` to ``dst`` dequantizes low-precision weights."""
    return src is not None and is_low_precision_int(src) and np.issubdtype(np.dtype(dst), np.floating)
