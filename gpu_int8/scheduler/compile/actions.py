"""What a compiled step does at run time: kernel launches, host computations, or nothing.

Every action names the plan tensors it touches; the executor resolves names to
device buffers once and keeps each kernel action's ``prepare`` launches (arguments bound)
to enqueue on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Launch:
    """One kernel launch; ``args`` items are ``("t", tensor)``, ``("b", buffer)`` or ``("s", scalar)``."""

    kernel: Any  # a KernelRef (or anything with CLProgram's prepare)
    args: list[tuple[str, Any]]
    global_size: tuple[int, ...]
    local_size: tuple[int, ...] | None
    name: str

    def prepare(self, buffers: dict[str, Any]) -> list:
        """The launch with its buffers bound once (``PreparedLaunch``), to enqueue on every run."""
        values = [buffers[v] if kind == "t" else v for kind, v in self.args]
        return [self.kernel.prepare(*values, global_size=self.global_size, local_size=self.local_size)]

    @property
    def tensors(self) -> list[str]:
        return [v for kind, v in self.args if kind == "t"]


@dataclass
class CallLaunch:
    """Launches a host-side kernel object makes for the buffers of ``tensors``:
    ``prepare_fn(*buffers)`` returns them with their arguments bound (e.g. ``ConvKernel.gemm``)."""

    prepare_fn: Callable[..., list]
    tensors: list[str]
    name: str

    def prepare(self, buffers: dict[str, Any]) -> list:
        return self.prepare_fn(*[buffers[t] for t in self.tensors])


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
