"""Names the OpenVINO IR format uses: element types, port precisions, layer types.

Shared by the IR reader and writer so both speak the same vocabulary.
"""

from __future__ import annotations

import numpy as np

#: IR versions the reader understands (10: static shapes, 11: dynamic shapes, tensor names)
SUPPORTED_IR_VERSIONS = (10, 11)


class ElementType:
    """One OpenVINO element type: its storage in the .bin and the NumPy dtype it unpacks to."""

    def __init__(self, name: str, precision: str, dtype, bits: int):
        self.name, self.precision, self.dtype, self.bits = name, precision, np.dtype(dtype), bits

    def nbytes(self, count: int) -> int:
        """Bytes ``count`` elements take in the .bin."""
        return (count * self.bits + 7) // 8


#: element type name (as in ``element_type=``) -> ElementType; bf16 unpacks to float32
ELEMENT_TYPES: dict[str, ElementType] = {t.name: t for t in [
    ElementType("f32", "FP32", np.float32, 32),
    ElementType("f16", "FP16", np.float16, 16),
    ElementType("bf16", "BF16", np.float32, 16),
    ElementType("f64", "FP64", np.float64, 64),
    ElementType("i4", "I4", np.int8, 4),
    ElementType("u4", "U4", np.uint8, 4),
    ElementType("u1", "BIN", np.uint8, 1),
    ElementType("i8", "I8", np.int8, 8),
    ElementType("u8", "U8", np.uint8, 8),
    ElementType("i16", "I16", np.int16, 16),
    ElementType("u16", "U16", np.uint16, 16),
    ElementType("i32", "I32", np.int32, 32),
    ElementType("u32", "U32", np.uint32, 32),
    ElementType("i64", "I64", np.int64, 64),
    ElementType("u64", "U64", np.uint64, 64),
    ElementType("boolean", "BOOL", np.bool_, 8),
]}

#: port ``precision=`` name -> ElementType
PRECISIONS: dict[str, ElementType] = {t.precision: t for t in ELEMENT_TYPES.values()}
# older files spell some precisions differently
PRECISIONS.update({"U1": ELEMENT_TYPES["u1"], "BOOLEAN": ELEMENT_TYPES["boolean"]})

#: port precisions that say "not known" rather than naming a type
UNKNOWN_PRECISIONS = frozenset({"UNSPECIFIED", "DYNAMIC", "UNDEFINED"})

#: element types a graph input (Parameter) may have
PARAMETER_TYPES = frozenset({"f32", "f16", "f64", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "boolean"})

#: NumPy dtype -> element type name, for the writer
DTYPE_TO_ELEMENT: dict[np.dtype, str] = {
    np.dtype(np.float32): "f32", np.dtype(np.float16): "f16", np.dtype(np.float64): "f64",
    np.dtype(np.int8): "i8", np.dtype(np.uint8): "u8", np.dtype(np.int16): "i16", np.dtype(np.uint16): "u16",
    np.dtype(np.int32): "i32", np.dtype(np.uint32): "u32", np.dtype(np.int64): "i64", np.dtype(np.uint64): "u64",
    np.dtype(np.bool_): "boolean",
}

#: IR layer type -> canonical op type, where OpenVINO's serializer renames the op
IR_TO_OP_TYPE = {"Const": "Constant", "ReLU": "Relu", "SoftMax": "Softmax", "PReLU": "PRelu"}
OP_TO_IR_TYPE = {op: ir for ir, op in IR_TO_OP_TYPE.items()}

#: Opset version the writer names for an op whose node carries no ``opset`` attribute:
#: the newest version with the semantics gpu_int8's op definitions implement.  Op types
#: not listed exist in opset1 with their current semantics.
DEFAULT_OPSET: dict[str, int] = {
    "BatchNormInference": 5, "Broadcast": 3, "Gather": 8, "GatherElements": 6, "GatherND": 8, "Gelu": 7,
    "HSigmoid": 5, "HSwish": 4, "Interpolate": 11, "LogSoftmax": 5, "MaxPool": 8, "Mish": 4, "MVN": 6,
    "Pad": 12, "Range": 4, "ReduceL1": 4, "ReduceL2": 4, "Round": 5, "ScaledDotProductAttention": 13,
    "ScatterElementsUpdate": 12, "ShapeOf": 3, "Slice": 8, "Softmax": 8, "SoftPlus": 4, "SoftSign": 9,
    "Swish": 4, "TopK": 11, "NonMaxSuppression": 9, "Einsum": 7, "Roll": 7,
}
