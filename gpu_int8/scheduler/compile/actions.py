"""What a compiled step does at run time: kernel launches, host computations, or nothing.

Every action names the plan tensors it touches; the executor resolves names to
device buffers.  ``enqueue`` returns the OpenCL event of a launch (for profiling)
or None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Launch:
    """One kernel launch; ``args`` items are ``("t", tensor)``, ``("b", buffer)`` or ``("s", scalar)``."""

    kernel: Any  # a KernelRef (or anything launching like CLProgram)
    args: list[tuple[str, Any]]
    global_size: tuple[int, ...]
    local_size: tuple[int, ...] | None
    name: str

    def enqueue(self, buffers: dict[str, Any]):
        values = [buffers[v] if kind == "t" else v for kind, v in self.args]
        return self.kernel(*values, global_size=self.global_size, local_size=self.local_size).event

    @property
    def tensors(self) -> list[str]:
        return [v for kind, v in self.args if kind == "t"]


@dataclass
class CallLaunch:
    """A host-side kernel object called with the buffers of ``tensors`` (e.g. a ConvKernel(x, y))."""

    fn: Callable
    tensors: list[str]
    name: str

    def enqueue(self, buffers: dict[str, Any]):
        return self.fn(*[buffers[t] for t in self.tensors]).event


@dataclass
class HostCall:
    """A NumPy computation between kernels: logical input arrays in, logical output arrays out."""

    fn: Callable[[list[np.ndarray]], list[np.ndarray]]
    inputs: list[str]
    outputs: list[str]
    name: str = "host"

    @property
    def tensors(self) -> list[str]:
        return self.inputs + self.outputs


@dataclass
class StepPlan:
    """How one schedule step runs: ``where`` is ``opencl``, ``host`` or ``alias`` (no work)."""

    step: Any
    kernel: str
    where: str
    actions: list = field(default_factory=list)
    note: str = ""
    precision: str = ""
    aliases: dict[str, str] = field(default_factory=dict)  # output tensor -> input tensor whose buffer it shares
