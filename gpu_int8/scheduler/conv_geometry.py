"""A 2-D convolution's shapes, as the int8 convolution kernels see them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConvGeometry:
    """A 2-D convolution's shapes (OpenVINO Convolution / GroupConvolution semantics)."""

    n: int
    c: int
    h: int
    w: int
    cout: int
    kh: int = 1
    kw: int = 1
    stride: tuple[int, int] = (1, 1)
    pads_begin: tuple[int, int] = (0, 0)
    pads_end: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    def __post_init__(self):
        if self.c % self.groups or self.cout % self.groups:
            raise ValueError(f"channels {self.c}->{self.cout} not divisible by groups {self.groups}")
        if self.oh <= 0 or self.ow <= 0:
            raise ValueError(f"empty output for {self}")

    @classmethod
    def matmul(cls, m: int, k: int, n: int) -> ConvGeometry:
        """``[m, k] x [k, n]`` as a 1x1 convolution over m one-pixel images."""
        return cls(n=m, c=k, h=1, w=1, cout=n)

    @property
    def oh(self) -> int:
        span = (self.kh - 1) * self.dilation[0] + 1
        return (self.h + self.pads_begin[0] + self.pads_end[0] - span) // self.stride[0] + 1

    @property
    def ow(self) -> int:
        span = (self.kw - 1) * self.dilation[1] + 1
        return (self.w + self.pads_begin[1] + self.pads_end[1] - span) // self.stride[1] + 1

    @property
    def cin_g(self) -> int:
        return self.c // self.groups

    @property
    def cout_g(self) -> int:
        return self.cout // self.groups

    @property
    def k(self) -> int:
        """Reduction length per output value."""
        return self.kh * self.kw * self.cin_g

    @property
    def m(self) -> int:
        """Output pixels over the batch."""
        return self.n * self.oh * self.ow

    @property
    def macs(self) -> int:
        return self.m * self.cout * self.k

    @property
    def is_padded(self) -> bool:
        return any(self.pads_begin) or any(self.pads_end)

    @property
    def is_depthwise(self) -> bool:
        return self.groups > 1 and self.cin_g == 1 and self.cout_g == 1

    def geometry_defines(self) -> dict[str, int]:
        return dict(IH=self.h, IW=self.w, C=self.c, OH=self.oh, OW=self.ow, KH=self.kh, KW=self.kw,
                    SH=self.stride[0], SW=self.stride[1], PH=self.pads_begin[0], PW=self.pads_begin[1],
                    DH=self.dilation[0], DW=self.dilation[1], CIN_G=self.cin_g, COUT_G=self.cout_g,
                    COUT=self.cout)


def check_weights(w: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """``w`` itself when it is int8 (COUT, CIN_G, KH, KW) for ``g``, else ValueError."""
    expect = (g.cout, g.cin_g, g.kh, g.kw)
    if w.shape != expect or w.dtype != np.int8:
        raise ValueError(f"weights must be int8 {expect}, got {w.dtype} {w.shape}")
    return w
