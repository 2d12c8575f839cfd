"""Quantization parameters of an integer tensor: real = (q - zero_point) * scale."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class QParams:
    """``scale`` and ``zero_point`` are float32 vectors of length 1 (per tensor)
    or C (per channel along ``axis``)."""

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int | None = None

    def __post_init__(self):
        self.scale = np.asarray(self.scale, np.float32).reshape(-1)
        self.zero_point = np.asarray(self.zero_point, np.float32).reshape(-1)
        if self.scale.size == 1 and self.zero_point.size == 1:
            self.axis = None

    @property
    def per_tensor(self) -> bool:
        return self.axis is None

    @property
    def has_zero_point(self) -> bool:
        return bool(np.any(self.zero_point != 0))

    @property
    def channels(self) -> int:
        return max(self.scale.size, self.zero_point.size)

    def full(self) -> tuple[np.ndarray, np.ndarray]:
        """scale and zero point, both of length ``channels``."""
        n = self.channels
        return np.broadcast_to(self.scale, (n,)).copy(), np.broadcast_to(self.zero_point, (n,)).copy()

    def moved(self, axis: int | None) -> QParams | None:
        """The same parameters on another axis; None when per-channel ones lose their axis."""
        if self.per_tensor:
            return self
        if axis is None:
            return None
        return QParams(self.scale, self.zero_point, axis)

    def const(self, vector: np.ndarray, rank: int) -> np.ndarray:
        """``vector`` as a constant that broadcasts against a rank-``rank`` tensor: 0-d per
        tensor, ``[1, .., C, .., 1]`` per channel."""
        vector = np.asarray(vector, np.float32).reshape(-1)
        if self.axis is None or vector.size == 1:
            return np.asarray(vector[0], np.float32)
        shape = [1] * rank
        shape[self.axis] = vector.size
        return vector.reshape(shape)

    def scale_const(self, rank: int) -> np.ndarray:
        return self.const(self.scale, rank)

    def zero_point_const(self, rank: int) -> np.ndarray:
        return self.const(self.zero_point, rank)

    def same_as(self, other: QParams) -> bool:
        a_scale, a_zp = self.full()
        b_scale, b_zp = other.full()
        return (self.axis == other.axis or (a_scale.size == 1 and b_scale.size == 1)) and \
            a_scale.shape == b_scale.shape and np.array_equal(a_scale, b_scale) and np.array_equal(a_zp, b_zp)

    @classmethod
    def from_consts(cls, scale: np.ndarray | None, zero_point: np.ndarray | None, rank: int) -> QParams | None:
        """From Multiply/Subtract constants broadcasting against a rank-``rank`` tensor;
        None when they vary along more than one axis."""
        scale = np.ones((), np.float32) if scale is None else scale
        zero_point = np.zeros((), np.float32) if zero_point is None else zero_point
        found = channel_vectors([scale, zero_point], rank)
        if found is None:
            return None
        axis, (scale, zero_point) = found
        return cls(scale, zero_point, axis)


def channel_vectors(consts: list[np.ndarray], rank: int) -> tuple[int | None, list[np.ndarray]] | None:
    """Constants that broadcast against a rank-``rank`` tensor as vectors (length 1, or C along one
    shared axis), in float64; None when they vary along more than one axis."""
    axes, shaped = set(), []
    for const in consts:
        const = np.asarray(const, np.float64)
        if const.ndim > rank:
            if any(d != 1 for d in const.shape[:const.ndim - rank]):
                return None
            const = const.reshape(const.shape[const.ndim - rank:])
        shape = (1,) * (rank - const.ndim) + const.shape
        axes.update(i for i, d in enumerate(shape) if d != 1)
        shaped.append(const)
    if len(axes) > 1:
        return None
    axis = axes.pop() if axes else None
    return axis, [c.reshape(-1)[:1] if axis is None else c.reshape(-1) for c in shaped]
