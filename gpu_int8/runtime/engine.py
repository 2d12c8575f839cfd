"""The engine a user holds: named inputs/outputs, sync and async inference."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from gpu_int8.errors import GpuInt8Error


class Executor(Protocol):
    """Anything that maps input arrays to output arrays (a Plan, or a reference executor)."""

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True)
class TensorSpec:
    """Name, static shape and dtype of a model input or output."""

    name: str
    shape: tuple
    dtype: np.dtype

    def __str__(self) -> str:
        return f"{self.name} {np.dtype(self.dtype).name}{list(self.shape)}"


@dataclass(frozen=True)
class DeviceInfo:
    """What runs the model, and why it was chosen."""

    name: str
    kind: str  # "opencl" or "reference"
    kernels: str | None
    precision: str
    reason: str

    def __str__(self) -> str:
        family = f", {self.kernels} kernels" if self.kernels else ""
        return f"{self.name} ({self.kind}{family}, {self.precision}): {self.reason}"


class Engine:
    """A loaded model, ready to infer. Thread-safe; requests run one at a time in order."""

    def __init__(self, executor: Executor, inputs: list[TensorSpec], outputs: list[TensorSpec],
                 device: DeviceInfo, schedule=None):
        self._executor = executor
        self.inputs = inputs
        self.outputs = outputs
        self.device = device
        self.schedule = schedule
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run one inference: ``{input name: array}`` -> ``{output name: array}``."""
        feeds = self._check(feeds)
        with self._lock:
            return self._executor.run(feeds)

    def infer_async(self, feeds: dict[str, np.ndarray]) -> Future:
        """Queue an inference; returns a Future whose ``result()`` is the output dict."""
        feeds = self._check(feeds)  # bad feeds fail here, in the caller's thread
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gpu_int8")
        return self._pool.submit(self._run_locked, feeds)

    def _run_locked(self, feeds):
        with self._lock:
            return self._executor.run(feeds)

    def profile(self) -> list | None:
        """Per-step timings of the last inference (kernel, kind, precision, device time), or None
        when the engine runs a NumPy reference executor or was loaded without ``profiling: true``."""
        fn = getattr(self._executor, "profile", None)
        with self._lock:
            return fn() if fn is not None else None

    def close(self) -> None:
        """Finish queued requests and release the worker thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _check(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        names = {spec.name for spec in self.inputs}
        unknown = set(feeds) - names
        if unknown:
            raise GpuInt8Error(f"unknown input(s) {sorted(unknown)}; the model's inputs are {sorted(names)}")
        checked = {}
        for spec in self.inputs:
            if spec.name not in feeds:
                raise GpuInt8Error(f"input '{spec.name}' is missing; expected {spec}")
            array = np.asarray(feeds[spec.name])
            if tuple(array.shape) != tuple(spec.shape):
                raise GpuInt8Error(f"input '{spec.name}' has shape {list(array.shape)}, expected {list(spec.shape)}")
            if array.dtype != spec.dtype:
                if not np.can_cast(array.dtype, spec.dtype, casting="same_kind"):
                    raise GpuInt8Error(f"input '{spec.name}' has dtype {array.dtype}, expected {spec.dtype}")
                array = array.astype(spec.dtype)
            checked[spec.name] = np.ascontiguousarray(array)
        return checked

    def __repr__(self) -> str:
        ins = ", ".join(map(str, self.inputs))
        outs = ", ".join(map(str, self.outputs))
        return f"<Engine inputs [{ins}] outputs [{outs}] on {self.device}>"
