"""Runs a :class:`~gpu_int8.scheduler.plan.Plan` on its device's in-order queue.

Activations live in one arena buffer; each tensor is a sub-buffer at its
planned offset (aliased tensors share one).  Kernel launches get their
arguments bound once, when the executor is made, and are enqueued back to
back (on a CPU device the enqueueing thread shares the cores with the
kernels, so it must be quick); a host step waits for the queue, reads its
inputs, computes on the host and writes its outputs.  Every launch keeps its
OpenCL event, so :meth:`PlanExecutor.profile` reports per-step device time
(host steps: wall time).  One lock per plan makes ``run`` safe to call from
several threads (requests on one plan run one at a time).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from gpu_int8.errors import ModelError
from gpu_int8.scheduler.compile.actions import HostCall
from gpu_int8.scheduler.plan import Plan


@dataclass
class StepProfile:
    """One step of the last run: what ran it and how long it took."""

    name: str
    kind: str
    precision: str
    kernel: str
    where: str  # "opencl", "host" or "alias"
    seconds: float
    launches: int

    def line(self) -> str:
        return (f"{self.name:40s} {self.kind:11s} {self.precision:4s} {self.where:6s} "
                f"{self.seconds * 1e3:8.3f} ms  {self.kernel}")


class PlanExecutor:
    """Inputs and outputs by name as float32 arrays, like the reference executors.  With
    ``profiling``, each run's launches keep their device times (:meth:`profile`); without, they
    go to a queue that records none."""

    def __init__(self, plan: Plan, profiling: bool = True):
        self.plan = plan
        self.device = plan.device
        self.profiling = profiling
        self.queue = plan.device.queue if profiling else plan.device.plain_queue
        memory = plan.memory
        self._arena = self.device.allocator.alloc(max(memory.arena_bytes, 1))
        subs: dict[str, object] = {}
        self.buffers: dict[str, object] = {}
        for name, offset in memory.offsets.items():
            root = memory.roots[name]
            if root not in subs:
                subs[root] = self._arena.get_sub_region(offset, max(memory.sizes[root], 1))
            self.buffers[name] = subs[root]
        self._lock = threading.Lock()
        self._events: list[tuple[int, object]] = []
        self._host_seconds: dict[int, float] = {}
        # per step and action: its launches with their buffers bound once (host steps: None)
        self._prepared = [[None if isinstance(a, HostCall) else a.prepare(self.buffers) for a in sp.actions]
                          for sp in plan.steps]
        self._segments = self._enqueue_segments()

    def _enqueue_segments(self) -> list:
        """The plan in enqueue order: runs of ``(step index, kernel, global size, local size)``
        between host calls ``(step index, StepPlan, HostCall)``.  A run is enqueued in one tight
        loop: the Python around each call had cost almost a microsecond of the three a launch
        took (PP-OCR cls: 76 launches in 0.41 ms)."""
        segments, run = [], []
        for i, sp in enumerate(self.plan.steps):
            for action, prepared in zip(sp.actions, self._prepared[i], strict=True):
                if isinstance(action, HostCall):
                    if run:
                        segments.append(run)
                    segments.append((i, sp, action))
                    run = []
                else:
                    run += [(i, p.kernel, p.global_size, p.local_size) for p in prepared]
        if run:
            segments.append(run)
        return segments

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Outputs by name: int8 outputs dequantized, float outputs as computed."""
        with self._lock:
            return self._run(feeds)

    def _run(self, feeds):
        import pyopencl as cl

        queue = self.queue
        schedule = self.plan.schedule
        staged = []
        for name in schedule.inputs:
            if name not in feeds:
                raise ModelError(f"no data given for input '{name}'", file=schedule.name)
            data = self.plan.placements[name].to_physical(feeds[name])
            staged.append(data)
            cl.enqueue_copy(queue, self.buffers[name], data, is_blocking=False)
        events, host_seconds = [], {}
        enqueue = cl.enqueue_nd_range_kernel
        for segment in self._segments:
            if isinstance(segment, tuple):
                i, sp, action = segment
                queue.finish()  # the kernels before it are not the host step's time
                start = time.perf_counter()
                self._host(sp, action)
                host_seconds[i] = host_seconds.get(i, 0.0) + time.perf_counter() - start
            else:
                events += [(i, enqueue(queue, kernel, g, local)) for i, kernel, g, local in segment]
        # the last run's events are released here, while the kernels run: after them, the
        # releases had taken 20 us of PP-OCR cls's 0.38 ms (cls 1.04x, ResNet-50 and det 1.01x)
        self._events = events
        outputs = {name: self._read(name) for name in schedule.outputs}
        queue.finish()
        del staged
        self._host_seconds = host_seconds
        return {name: _as_output(schedule.tensors[name], data) for name, data in outputs.items()}

    def _read(self, name: str) -> np.ndarray:
        import pyopencl as cl

        p = self.plan.placements[name]
        data = np.empty(p.physical_shape, p.np_dtype)
        if data.nbytes:
            cl.enqueue_copy(self.queue, data, self.buffers[name], is_blocking=True)
        return np.ascontiguousarray(p.from_physical(data))

    def _host(self, sp, action: HostCall) -> None:
        import pyopencl as cl

        inputs = [self._read(name) for name in action.inputs]
        try:
            results = action.fn(inputs)
        except Exception as exc:
            raise ModelError(f"host step {sp.step.kind} failed: {exc}", file=self.plan.schedule.name,
                             node=sp.step.name) from exc
        for name, data in zip(action.outputs, results):
            if name not in self.buffers:
                continue
            physical = self.plan.placements[name].to_physical(data)
            if physical.nbytes:
                cl.enqueue_copy(self.queue, self.buffers[name], physical, is_blocking=True)

    def profile(self) -> list[StepProfile] | None:
        """Per-step timings of the last run (device time from OpenCL events; host steps wall time),
        or None when the executor runs without profiling."""
        if not self.profiling:
            return None
        seconds: dict[int, float] = dict(self._host_seconds)
        launches: dict[int, int] = {}
        for i, event in self._events:
            seconds[i] = seconds.get(i, 0.0) + (event.profile.end - event.profile.start) * 1e-9
            launches[i] = launches.get(i, 0) + 1
        return [StepProfile(sp.step.name, sp.step.kind, sp.precision, sp.kernel, sp.where, seconds.get(i, 0.0),
                            launches.get(i, 0)) for i, sp in enumerate(self.plan.steps)]


def _as_output(tensor, data: np.ndarray) -> np.ndarray:
    """A model output as the source graph has it: int8 tensors dequantized, others as stored."""
    return tensor.dequantize(data) if tensor.is_int8 and tensor.has_quantization else data
