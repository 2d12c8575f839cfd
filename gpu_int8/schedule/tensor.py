"""A tensor of the schedule: shape, storage type and, for integer tensors, how
to read them as real numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: storage types a schedule uses, by their short names
DTYPES: dict[str, np.dtype] = {
    "u8": np.dtype(np.uint8),
    "i8": np.dtype(np.int8),
    "i32": np.dtype(np.int32),
    "f32": np.dtype(np.float32),
    # only float steps (index outputs, masks) use these
    "i64": np.dtype(np.int64),
    "bool": np.dtype(np.bool_),
}

def dtype_name(dtype) -> str:
    """The schedule's short name (u8, i8, i32, f32) of a NumPy dtype."""
    dtype = np.dtype(dtype)
    for name, known in DTYPES.items():
        if known == dtype:
            return name
    raise ValueError(f"a schedule has no storage type for {dtype}")


@dataclass
class Tensor:
    """One tensor a step reads or writes.

    An integer tensor (u8/i8) holds ``q``; its real value is
    ``(q - zero_point) * scale``, where ``scale`` and ``zero_point`` are float32
    vectors of length 1 or of the size of ``axis`` (per channel).  ``origin``
    names the value of the source graph whose (float) value this tensor holds,
    so a float run can be compared with it layer by layer.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: np.ndarray | None = None
    zero_point: np.ndarray | None = None
    axis: int | None = None
    origin: str | None = None

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ValueError(f"tensor '{self.name}': unknown storage type {self.dtype!r}")
        self.shape = tuple(int(d) for d in self.shape)
        if self.scale is not None:
            self.scale = np.asarray(self.scale, np.float32).reshape(-1)
        if self.zero_point is not None:
            self.zero_point = np.asarray(self.zero_point, np.float32).reshape(-1)

    @property
    def np_dtype(self) -> np.dtype:
        return DTYPES[self.dtype]

    @property
    def is_int8(self) -> bool:
        return self.dtype in ("u8", "i8")

    @property
    def has_quantization(self) -> bool:
        return self.scale is not None

    def per_channel(self, vector: np.ndarray) -> np.ndarray:
        """``vector`` (length 1 or C) shaped to broadcast against this tensor."""
        vector = np.asarray(vector, np.float32).reshape(-1)
        if vector.size == 1 or self.axis is None:
            return vector.reshape(())
        shape = [1] * len(self.shape)
        shape[self.axis] = vector.size
        return vector.reshape(shape)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        """The real (float32) value of stored data ``q``."""
        if not self.has_quantization:
            return np.asarray(q, np.float32)
        zero = self.per_channel(self.zero_point) if self.zero_point is not None else np.float32(0)
        return ((q.astype(np.float32) - zero) * self.per_channel(self.scale)).astype(np.float32)
