"""Shared state of one plan compilation: device, kernel family, tensor placements,
the program builder and uploaded constants; plus small code-generation helpers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gpu_int8.schedule import Schedule, Step
from gpu_int8.scheduler.compile.indexing import Placement
from gpu_int8.scheduler.compile.program import ProgramBuilder
from gpu_int8.scheduler.epilogue_codegen import EpilogueCode, epilogue_function

#: work-group size of the generated one-element-per-work-item kernels
LOCAL = 64


@dataclass
class CompileContext:
    """What step compilers share."""

    schedule: Schedule
    device: Any  # CLDevice
    family: str  # "intel" or "portable"
    builder: ProgramBuilder
    placements: dict[str, Placement]
    subgroup_size: int | None = None
    const_bytes: int = 0
    scratch: dict[str, tuple[int, Placement]] = field(default_factory=dict)  # name -> (step index, placement)
    step_index: int = 0
    used: set[str] = field(default_factory=set)  # tensors some step reads, and the model outputs
    _dummy: Any = None

    def const(self, array: np.ndarray):
        """A device buffer holding ``array`` (uploaded now)."""
        array = np.ascontiguousarray(array)
        self.const_bytes += max(array.nbytes, 1)
        return self.device.allocator.from_numpy(array if array.size else np.zeros(1, array.dtype))

    def epilogue_buffer(self, code: EpilogueCode):
        """The buffer of an epilogue's constants (a shared one-float buffer when it has none)."""
        if code.consts.size:
            return self.const(code.consts)
        return self.dummy_buffer()

    def dummy_buffer(self):
        """A small shared buffer for pointer arguments a kernel instance does not read."""
        if self._dummy is None:
            self._dummy = self.const(np.zeros(4, np.float32))
        return self._dummy

    def add_scratch(self, name: str, placement: Placement) -> str:
        """A plan-internal tensor live only during the current step."""
        self.placements[name] = placement
        self.scratch[name] = (self.step_index, placement)
        return name

    def placement(self, tensor: str) -> Placement:
        return self.placements[tensor]


def step_epilogue(step: Step, out: Placement, name_hint: str = "ep", width: int = 1) -> EpilogueCode:
    """The step's epilogue as an OpenCL function (constants in the buffer, shared by equal programs)."""
    channels = out.shape[step.axis] if step.axis is not None else None
    code = epilogue_function("EPILOGUE_NAME", step.epilogue, step.consts, len(step.inputs), channels,
                             inline_scalars=False, width=width)
    # named by its text, so steps with the same program shape share one kernel instance
    code.name = f"{name_hint}_{hashlib.sha256(code.source.encode()).hexdigest()[:10]}"
    code.source = code.source.replace("EPILOGUE_NAME", code.name)
    return code


def store_expr(dtype: str, value: str) -> str:
    """C expression converting float ``value`` (already rounded for integer types) to the storage type."""
    return {"u8": f"convert_uchar_sat({value})", "i8": f"convert_char_sat({value})",
            "f32": f"({value})", "i32": f"convert_int_sat_rte({value})"}[dtype]


#: float vector -> the stored vector of each output type (values already rounded for integer types)
STORE_VEC = {"u8": "convert_uchar{w}_sat({v})", "i8": "convert_char{w}_sat({v})", "f32": "({v})",
             "i32": "convert_int{w}_sat_rte({v})"}


def global_1d(count: int, local: int = LOCAL) -> tuple[tuple[int], tuple[int]]:
    """Global and local size of a one-element-per-work-item launch over ``count`` elements."""
    local = max(1, min(local, count))
    return (-(-count // local) * local,), (local,)


def extra_args(code: EpilogueCode, placements: dict[int, Placement]) -> str:
    return "".join(f", __global const {placements[k].cl_type} *in{k}" for k in code.inputs)
