"""ONNX op -> canonical op converters, one small module per group of ONNX ops.

A converter is ``fn(ctx, node)`` registered for one or more ONNX op types with
the canonical op types it may emit; :func:`supported_onnx_ops` lists the ONNX
ops whose canonical ops all have definitions in :data:`gpu_int8.ops.REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gpu_int8.ops import REGISTRY


@dataclass(frozen=True)
class Converter:
    fn: Callable
    emits: tuple[str, ...]


CONVERTERS: dict[str, Converter] = {}


def converter(*onnx_types: str, emits: tuple[str, ...] | list[str] = ()):
    """Register ``fn(ctx, node)`` for ``onnx_types``; ``emits`` lists the canonical ops it may add."""

    def register(fn):
        for op_type in onnx_types:
            CONVERTERS[op_type] = Converter(fn, tuple(emits))
        return fn

    return register


def supported_onnx_ops() -> list[str]:
    """ONNX op types the reader maps and whose canonical ops are all defined."""
    return sorted(t for t, c in CONVERTERS.items() if all(e in REGISTRY for e in c.emits))


# the group modules register their converters on import
from gpu_int8.frontends.onnx_ops import (  # noqa: E402,F401
    elementwise,
    nn,
    normalization,
    quantization,
    resize,
    shape,
)
