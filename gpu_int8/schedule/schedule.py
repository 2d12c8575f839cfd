"""The Schedule: what lpt produces and every executor runs, device independent."""

from __future__ import annotations

from dataclasses import dataclass, field

from gpu_int8.schedule.step import Step
from gpu_int8.schedule.tensor import Tensor

#: ops that only move or reshape data; they are not counted as compute layers
DATA_MOVEMENT = frozenset({
    "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split", "VariadicSplit", "StridedSlice",
    "Slice", "Gather", "Pad", "DepthToSpace", "SpaceToDepth", "ShuffleChannels", "Broadcast", "Tile",
    "Identity", "Convert",
})


@dataclass
class Summary:
    """How many compute layers run in int8, and which run in float."""

    int8: int
    compute: int
    float_layers: list[tuple[str, str, str]]  # (op type, step name, reason)
    float_movement: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        if self.float_layers:
            names = ", ".join(f"{op}({name})" for op, name, _ in self.float_layers)
        else:
            names = "none"
        return f"{self.int8} of {self.compute} compute layers in INT8; float layers: {names}"


@dataclass
class Schedule:
    """Steps in execution order over named tensors.

    ``inputs`` and ``outputs`` are the model's (float32) inputs and outputs,
    named as in the source graph.
    """

    name: str
    tensors: dict[str, Tensor]
    steps: list[Step]
    inputs: list[str]
    outputs: list[str]

    def precision(self, step: Step) -> str:
        """``U8``/``I8`` when the step computes on int8 data, ``FP32`` otherwise."""
        if step.kind in ("float", "elementwise"):
            return "FP32"
        ref = self.tensors[step.outputs[0]] if step.kind == "quantize" else self.tensors[step.inputs[0]]
        return ref.dtype.upper() if ref.is_int8 else "FP32"

    def is_compute(self, step: Step) -> bool:
        """Whether the step counts as a compute layer (not a conversion, not pure data movement)."""
        if step.kind in ("quantize", "dequantize"):
            return False
        return not (step.kind in ("move", "float") and step.op_type in DATA_MOVEMENT)

    def summary(self) -> Summary:
        compute = [s for s in self.steps if self.is_compute(s)]
        floats = [(s.op_type or s.kind, s.name, s.attrs.get("reason", "")) for s in compute
                  if self.precision(s) == "FP32"]
        movement = [(s.op_type, s.name) for s in self.steps
                    if not self.is_compute(s) and s.kind == "float"]
        return Summary(len(compute) - len(floats), len(compute), floats, movement)

    def check(self) -> None:
        """Every step reads tensors that exist and are written before; outputs are written."""
        known = set(self.inputs)
        for step in self.steps:
            for name in step.inputs:
                if name not in self.tensors or name not in known:
                    raise ValueError(f"step '{step.name}' reads '{name}' before it is written")
            for name in step.outputs:
                if name not in self.tensors:
                    raise ValueError(f"step '{step.name}' writes undeclared tensor '{name}'")
                known.add(name)
        for name in self.outputs:
            if name not in known:
                raise ValueError(f"output '{name}' is never written")

    def __repr__(self) -> str:
        return f"<Schedule {self.name}: {len(self.steps)} steps, {self.summary().line()}>"
