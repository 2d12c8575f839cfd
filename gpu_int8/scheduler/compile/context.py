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
    # convolution outputs that may be stored inside a Concat's output: tensor -> (it, channel offset),
    # and the Concat inputs already stored there (by their convolution, compile/concat_in_place.py,
    # or by a requantization reading them, compile/requantize_and_copy.py)
    in_place: dict[str, tuple[str, int]] = field(default_factory=dict)
    written_in_place: set[str] = field(default_factory=set)
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
    # stores of 8-bit values the program rounded into the type round themselves (store_expr)
    code = epilogue_function("EPILOGUE_NAME", step.epilogue, step.consts, len(step.inputs), channels,
                             inline_scalars=False, width=width, round_in_store=rounds_into(step.epilogue, out.dtype))
    # named by its text, so steps with the same program shape share one kernel instance
    code.name = f"{name_hint}_{hashlib.sha256(code.source.encode()).hexdigest()[:10]}"
    code.source = code.source.replace("EPILOGUE_NAME", code.name)
    return code


def store_expr(dtype: str, value: str, width: int = 1, program: list | None = None) -> str:
    """C expression converting float ``value`` (``width`` lanes, already rounded for integer types)
    to the storage type.

    Where the step's ``program`` ends rounding into bounds inside an 8-bit type, the value is
    clamped into them (:func:`step_epilogue` leaves the last rounding to the store): adding
    1.5 * 2^23 rounds it half to even and puts the integer, two's complement, in the float's low
    mantissa bits, and the truncating conversion keeps that low byte.  One add where rint and a
    saturating conversion take seven instructions on Intel's CPU runtime (a NaN test, a clamp
    and two roundings).  A single value takes the integer back (its float's bits less those of
    1.5 * 2^23, in range) and a C cast: in a kernel the runtime vectorizes across work-items, a
    scalar ``convert_char`` became a call per element (a requantizing multiply over 200 channels
    at 2x96 written that way: 0.043 -> 0.010 ms; PP-OCRv4 rec 1.012x)."""
    w = "" if width == 1 else str(width)
    if rounds_into(program, dtype) and width == 1:
        return f"({CL_INT8[dtype]})(as_int(({value}) + 12582912.0f) - 0x4B400000)"
    if rounds_into(program, dtype):
        return f"convert_{CL_INT8[dtype]}{w}(as_int{w}(({value}) + (float{w})(12582912.0f)))"
    return {"u8": f"convert_uchar{w}_sat({value})", "i8": f"convert_char{w}_sat({value})",
            "f32": f"({value})", "i32": f"convert_int{w}_sat_rte({value})"}[dtype]


CL_INT8 = {"u8": "uchar", "i8": "char"}


def rounds_into(program: list | None, dtype: str) -> bool:
    """Whether ``program`` ends rounding into bounds inside ``dtype``, an 8-bit type."""
    if dtype not in CL_INT8 or not program or program[-1][0] != "round":
        return False
    info = np.iinfo(np.uint8 if dtype == "u8" else np.int8)
    return info.min <= program[-1][1] <= program[-1][2] <= info.max


def global_1d(count: int, local: int = LOCAL) -> tuple[tuple[int], tuple[int]]:
    """Global and local size of a one-element-per-work-item launch over ``count`` elements."""
    local = max(1, min(local, count))
    return (-(-count // local) * local,), (local,)


#: work-group size of the light kernels (elementwise, pooling), at most: Intel's CPU runtime
#: pays for every work-group it schedules, and they do little per work-item.  64 -> 1024 (and
#: at least two work-groups a core), old and new in one process: device time of PP-OCRv4 rec's
#: elementwise steps 0.062 -> 0.044 ms, DenseNet-121's requantizations 0.50 -> 0.43 and
#: pools 0.101 -> 0.086, Inception v2's pools 0.327 -> 0.305
WIDE_LOCAL = 1024


def wide_1d(ctx: CompileContext, count: int) -> tuple[tuple[int], tuple[int]]:
    """:func:`global_1d` in work-groups of up to :data:`WIDE_LOCAL` work-items (at least
    :data:`LOCAL`), small launches still in two work-groups a compute unit."""
    info = ctx.device.info
    spread = -(-count // (2 * info.compute_units))
    return global_1d(count, max(LOCAL, min(WIDE_LOCAL, info.max_work_group_size, spread)))


def extra_args(code: EpilogueCode, placements: dict[int, Placement], skip: int | None = None) -> str:
    """The kernel parameters of the epilogue's operands (``in<k>``), but for operand ``skip``."""
    return "".join(f", __global const {placements[k].cl_type} *in{k}" for k in code.inputs if k != skip)
