"""The op definition contract: one class per op type, registered by class name.

An op class knows three things about its op type:

* ``attributes``: name -> :class:`Attr` (kind and default); readers use it to
  parse and check attributes, so a missing required one is a clear error;
* ``run(node, *inputs)``: the NumPy float reference, returning a tuple of arrays;
* ``infer(node, inputs)``: output shapes and dtypes.  The default runs the op on
  zeros (constants with their real data), which is exact and cheap for most
  ops; the heavy ones (convolution, matmul, pooling) override it.

Ops follow OpenVINO opset semantics and attribute names; the ONNX reader maps
ONNX ops onto them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

REGISTRY: dict[str, type[Op]] = {}

_REQUIRED = object()


@dataclass(frozen=True)
class Attr:
    """Schema of one attribute: ``kind`` in int, float, ints, floats, str, bool, dtype."""

    kind: str
    default: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


class Op:
    """Base of every op definition; subclasses register under their class name."""

    attributes: ClassVar[dict[str, Attr]] = {}
    #: a node whose inputs are all constant is evaluated at load time unless this is False
    foldable: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            REGISTRY[cls.__name__] = cls

    @classmethod
    def attr(cls, node, name: str):
        """``node.attrs[name]``, or the schema's default when the node omits it."""
        if name in node.attrs:
            return node.attrs[name]
        spec = cls.attributes.get(name)
        if spec is None or spec.required:
            raise KeyError(f"{cls.__name__} node '{node.name}' lacks attribute '{name}'")
        return spec.default

    @classmethod
    def can_fold(cls, node, inputs) -> bool:
        """Whether a node with all-constant ``inputs`` (Values) may be folded."""
        return cls.foldable

    @classmethod
    def run(cls, node, *inputs: np.ndarray) -> tuple[np.ndarray, ...]:
        raise NotImplementedError(f"{cls.__name__} has no reference implementation")

    @classmethod
    def infer(cls, node, inputs) -> list[tuple[tuple, np.dtype]]:
        """Output (shape, dtype) pairs for input Values with static shapes."""
        args = [v.data if v.is_const else np.zeros(v.shape, v.dtype) for v in inputs]
        with np.errstate(all="ignore"):
            outs = cls.run(node, *args)
        return [(tuple(o.shape), o.dtype) for o in outs]


def get_op(op_type: str) -> type[Op] | None:
    """The definition of ``op_type``, or None when gpu_int8 has none."""
    return REGISTRY.get(op_type)


# -- helpers shared by many op files ------------------------------------------------

def broadcast(*shapes: tuple) -> tuple:
    """NumPy broadcast of shapes (raises ValueError on mismatch)."""
    return tuple(np.broadcast_shapes(*shapes))


def as_float(x: np.ndarray) -> np.ndarray:
    """Float32 unless already floating: the reference computes in float32."""
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float32)
