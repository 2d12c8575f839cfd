"""Constant tensors of OpenVINO IR: bytes in the .bin at (offset, size).

Every number read from the .xml is checked before it is used: the range must
lie inside the .bin and its size must be exactly what the shape and element
type need, so a corrupt file can neither read out of bounds nor make us
allocate more than the file holds.
"""

from __future__ import annotations

import math

import numpy as np

from gpu_int8.frontends.ir_format import DTYPE_TO_ELEMENT, ElementType


def decode_constant(blob, element: ElementType, shape: tuple[int, ...], offset: int, size: int) -> np.ndarray:
    """The array stored at ``blob[offset:offset+size]``; ValueError says what does not fit."""
    if offset < 0 or size < 0:
        raise ValueError(f"negative offset {offset} or size {size}")
    if any(d < 0 for d in shape):
        raise ValueError(f"negative dimension in shape {list(shape)}")
    count = math.prod(shape)
    expected = element.nbytes(count)
    if size != expected:
        raise ValueError(f"size {size} does not fit shape {list(shape)} of {element.name} "
                         f"({expected} bytes expected)")
    if offset + size > len(blob):
        raise ValueError(f"bytes {offset}..{offset + size} lie outside the .bin ({len(blob)} bytes)")
    raw = np.frombuffer(blob, dtype=np.uint8, count=size, offset=offset)
    if element.name == "bf16":
        halves = raw.view("<u2").astype(np.uint32) << 16  # bf16 is the top half of a float32
        data = halves.view("<f4").astype(np.float32)
    elif element.name in ("i4", "u4"):
        nibbles = np.stack([raw & 0x0F, raw >> 4], axis=-1).reshape(-1)[:count]  # low nibble first
        if element.name == "i4":
            data = np.where(nibbles >= 8, nibbles.astype(np.int16) - 16, nibbles).astype(np.int8)
        else:
            data = nibbles.astype(np.uint8)
    elif element.name == "u1":
        data = np.unpackbits(raw, bitorder="big")[:count]  # first element in the top bit
    elif element.name == "boolean":
        data = raw != 0
    else:
        data = raw.view(element.dtype.newbyteorder("<")).astype(element.dtype)  # a copy, native order
    return data.reshape(shape)  # every branch made a new array: nothing refers to the .bin afterwards


def encode_constant(array: np.ndarray) -> tuple[str, bytes]:
    """(element type name, little-endian bytes) of ``array`` as OpenVINO stores it."""
    array = np.asarray(array)
    element = DTYPE_TO_ELEMENT.get(array.dtype.newbyteorder("="))
    if element is None:
        raise ValueError(f"constants of dtype {array.dtype} cannot be written to OpenVINO IR")
    stored = array.astype(np.uint8) if element == "boolean" else array.astype(array.dtype.newbyteorder("<"))
    return element, np.ascontiguousarray(stored).tobytes()
