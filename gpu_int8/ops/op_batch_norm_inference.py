"""BatchNormInference: ``gamma * (x - mean) / sqrt(variance + epsilon) + beta`` per
channel (axis 1).  Input order is v5's (data, gamma, beta, mean, variance);
nodes read from opset1 IR (``attrs["opset"] < 5``) use v0's (gamma, beta, data,
mean, variance)."""

from __future__ import annotations

import numpy as np

from gpu_int8.ops import spatial
from gpu_int8.ops.base import Attr, Op


class BatchNormInference(Op):
    attributes = {"epsilon": Attr("float")}

    @classmethod
    def ordered_inputs(cls, node, inputs):
        """(data, gamma, beta, mean, variance) whatever the opset's input order."""
        if node.attrs.get("opset", 5) < 5:
            gamma, beta, x, mean, variance = inputs
        else:
            x, gamma, beta, mean, variance = inputs
        return x, gamma, beta, mean, variance

    @classmethod
    def run(cls, node, *inputs):
        x, gamma, beta, mean, variance = cls.ordered_inputs(node, inputs)
        if x.ndim < 2:
            raise ValueError(f"data {list(x.shape)} has no channel axis")
        shape = (1, -1) + (1,) * (x.ndim - 2)
        xf = spatial.float_input(x)
        scale = spatial.float_input(gamma) / np.sqrt(spatial.float_input(variance) + cls.attr(node, "epsilon"))
        y = (xf - spatial.float_input(mean).reshape(shape)) * scale.reshape(shape)
        y = y + spatial.float_input(beta).reshape(shape)
        return (y.astype(x.dtype, copy=False),)

    @classmethod
    def infer(cls, node, inputs):
        x, *params = cls.ordered_inputs(node, inputs)
        for p in params:
            if len(x.shape) < 2 or tuple(p.shape) != (x.shape[1],):
                raise ValueError(f"parameter {p.name}{list(p.shape)} does not match data {list(x.shape)} channels")
        return [(x.shape, x.dtype)]
