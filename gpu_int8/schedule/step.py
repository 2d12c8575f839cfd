"""One step of a schedule: a fused int8 layer, a data movement, a boundary
conversion or a float layer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: step kinds and what they compute (the epilogue is in :mod:`gpu_int8.schedule.epilogue`)
KINDS = {
    # int8 compute: an int32 accumulator, then the epilogue
    "conv": "Convolution/GroupConvolution: acc = comp[o] + sum(x * w), x padded with pad_value",
    "deconv": "ConvolutionBackpropData: acc = comp[o] + transposed-convolution sum(x * w)",
    "matmul": "MatMul: acc = comp[n] + sum_k a * b (b the int8 weights w, or a second int8 input)",
    "avg_pool": "AvgPool: y = sum(window) / count, padding counted as pad_value unless exclude_pad",
    "reduce_mean": "ReduceMean over axes: y = sum / count",
    # conversions: the epilogue on y = float32(input)
    "quantize": "f32 -> u8/i8",
    "requantize": "u8/i8 -> u8/i8 (rescale, eltwise add/multiply with another int8 input, activation)",
    "dequantize": "u8/i8 -> f32",
    "elementwise": "f32 -> f32 (fused scale, bias, activation)",
    # no arithmetic on values: int8 in, the same quantization out
    "move": "a data movement op (or MaxPool) run on the stored integers",
    # float32 compute
    "float": "a float op on f32 tensors",
}

#: kinds whose epilogue starts from float32(input 0)
CONVERTING = ("quantize", "requantize", "dequantize", "elementwise")


@dataclass
class Step:
    """A step reads ``inputs`` (tensor names) and writes ``outputs``.

    ``consts`` holds its folded constants (int8 weights, int32 ``comp``,
    float32 epilogue vectors); ``epilogue`` its requantization program over
    channel axis ``axis`` of the output; ``attrs`` the geometry (strides, pads,
    ...) or, for move/float steps, ``op_type``, ``op_attrs`` and ``args`` (each
    op input: ``["t", tensor]``, ``["c", const key]`` or None when absent).
    ``absorbed`` lists the source graph's nodes it stands for, as
    ``(op_type, node name)``.
    """

    name: str
    kind: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict = field(default_factory=dict)
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    epilogue: list = field(default_factory=list)
    axis: int | None = None
    absorbed: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"step '{self.name}': unknown kind {self.kind!r}")

    @property
    def op_type(self) -> str | None:
        """The op a move/float step runs."""
        return self.attrs.get("op_type")

    @property
    def op_node(self):
        """A move/float step's op as a node (type, name, attributes): what the op definitions in
        :mod:`gpu_int8.ops` read their attributes from."""
        from gpu_int8.graph.node import Node

        return Node(self.op_type, self.name, [], list(self.outputs), dict(self.attrs.get("op_attrs", {})))

    def run_op(self, tensors: list[np.ndarray]) -> tuple:
        """Run a move/float step's op (its NumPy reference) on ``tensors``, one per step input."""
        from gpu_int8.ops import get_op

        op = get_op(self.op_type)
        if op is None:
            raise ValueError(f"no op definition for {self.op_type}")
        args = [None if arg is None else tensors[self.inputs.index(arg[1])] if arg[0] == "t"
                else self.consts[arg[1]] for arg in self.attrs["args"]]
        with np.errstate(all="ignore"):
            return op.run(self.op_node, *args)

    @property
    def label(self) -> str:
        """What the step fused, e.g. ``Convolution+Add+Relu+FakeQuantize``."""
        seen = []
        for op_type, _ in self.absorbed:
            if op_type not in ("Convert",) and (not seen or seen[-1] != op_type):
                seen.append(op_type)
        return "+".join(seen) if seen else (self.op_type or self.kind)

    def __repr__(self) -> str:
        return f"Step({self.kind} '{self.name}': {self.inputs} -> {self.outputs})"
