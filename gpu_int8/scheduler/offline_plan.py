"""A whole plan on paper for an Intel GPU: every kernel of it compiled by ``ocloc``.

:mod:`.offline` checks the Intel family's convolution kernels one by one.  A plan
holds many more: moves, elementwise steps, pools, MatMuls, Softmax, MVN, attention,
each specialized to its shapes.  Here the scheduler compiles a schedule for a
described Iris Xe (``tgllp``) or Xe MAX (``dg1``) - no OpenCL device, constants stay
in host memory - and ``ocloc`` builds each of the plan's programs, so a model's
kernels are known to compile for the GPU, with their SIMD width, spills and dp4a,
on a machine that has none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpu_int8.schedule import Schedule
from gpu_int8.scheduler.compile import StepPlan
from gpu_int8.scheduler.devices import DeviceInfo
from gpu_int8.scheduler.offline import IsaReport, compile_with_ocloc
from gpu_int8.scheduler.plan import compile_steps
from gpu_int8.scheduler.selection import select_device

#: the devices ocloc compiles for (:data:`~gpu_int8.scheduler.offline.OFFLINE_DEVICES`), as their
#: driver names them
OFFLINE_GPUS = {"tgllp": "Intel(R) Iris(R) Xe Graphics", "dg1": "Intel(R) Iris(R) Xe MAX Graphics"}
#: cl_intel_device_attribute_query's dp4a feature flag
_DP4A = 1


def described_gpu(target: str) -> DeviceInfo:
    """What Intel's GPU driver reports for ``target`` (the capabilities kernel selection reads)."""
    if target not in OFFLINE_GPUS:
        raise ValueError(f"unknown offline GPU '{target}'; known: {sorted(OFFLINE_GPUS)}")
    extensions = frozenset({"cl_intel_subgroups", "cl_intel_subgroups_char", "cl_intel_subgroups_short",
                            "cl_intel_required_subgroup_size", "cl_intel_device_attribute_query",
                            "cl_khr_fp16", "cl_khr_subgroups", "cl_khr_int64_base_atomics"})
    return DeviceInfo(index=0, platform_name="Intel(R) OpenCL Graphics", platform_version="OpenCL 3.0",
                      name=OFFLINE_GPUS[target], vendor="Intel(R) Corporation", kind="gpu",
                      driver_version=f"ocloc {target}", opencl_c_version="3.0", extensions=extensions,
                      subgroup_sizes=(8, 16, 32), integer_dot_caps=0, feature_caps_intel=_DP4A,
                      global_mem_bytes=4 << 30, local_mem_bytes=64 << 10, max_alloc_bytes=2 << 30,
                      compute_units=96, max_work_group_size=512)


class _HostAllocator:
    """Constants a plan would upload, kept as host arrays."""

    def from_numpy(self, array) -> np.ndarray:
        return np.array(array)


class _NoCache:
    """No program cache: nothing is built for a described device (kernel choices probe none)."""

    directory = None


class OfflineDevice:
    """A described device: compiling for it generates kernels and keeps constants on the host."""

    def __init__(self, target: str):
        self.target = target
        self.info = described_gpu(target)
        self.allocator = _HostAllocator()
        self.cache = _NoCache()


@dataclass
class OfflinePlan:
    """Each step's kernel choice and what ocloc made of each kernel."""

    target: str
    family: str
    steps: list[StepPlan]
    reports: list[IsaReport]

    @property
    def spilling(self) -> list[IsaReport]:
        return [r for r in self.reports if r.spill_bytes]

    def summary(self) -> str:
        kernels = {sp.kernel for sp in self.steps}
        dp4a = sum(1 for r in self.reports if r.dp4a)
        return (f"{len(self.steps)} steps, {len(self.reports)} kernels ({len(kernels)} kinds) compiled by ocloc "
                f"for {self.target} ({self.family} family): {dp4a} with dp4a, "
                f"{len(self.spilling)} spilling registers")


def compile_plan_offline(schedule: Schedule, target: str = "tgllp") -> OfflinePlan:
    """Compile ``schedule`` for ``target`` as :func:`gpu_int8.load` would on that GPU and build
    every program with ocloc; raises RuntimeError (with ocloc's log) if one does not build."""
    device = OfflineDevice(target)
    choice = select_device("auto", devices=[device.info])
    _, builder, _, steps = compile_steps(schedule, device, choice.family, choice.subgroup_size)
    reports = []
    for key, source in builder.sources().items():
        options = builder.groups[key].options
        reports += compile_with_ocloc(source, options.split(), target, variant=f"plan program ({options})")
    return OfflinePlan(target, choice.family, steps, reports)
