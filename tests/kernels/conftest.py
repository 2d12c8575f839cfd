"""OpenCL fixtures for the kernel tests: one device per installed CPU runtime.

The pip runtimes are registered before anything queries OpenCL platforms (the ICD
loader reads its vendor list once per process).
"""

from __future__ import annotations

import warnings

import pytest

from gpu_int8.scheduler.runtimes import register_runtimes

register_runtimes()

RUNTIMES = {
    "intel-cpu": ("Intel CPU OpenCL runtime (pip: intel-opencl-rt, intel-cmplr-lib-rt)",
                  lambda d: d.is_intel_cpu_runtime),
    "pocl": ("PoCL (pip: pocl-binary-distribution, or Debian: pocl-opencl-icd)", lambda d: d.is_pocl),
}
#: (runtime, kernel family) pairs the kernel tests run on
COMBOS = [("intel-cpu", "intel"), ("intel-cpu", "portable"), ("pocl", "portable")]

_DEVICES: dict[str, object] = {}


def cl_device_for(runtime: str):
    """A CLDevice on ``runtime`` (cached per session), or pytest.skip saying what is missing."""
    if runtime not in _DEVICES:
        from gpu_int8.runtime.cl_backend import CLDevice
        from gpu_int8.scheduler.devices import discover_devices

        what, match = RUNTIMES[runtime]
        found = [d for d in discover_devices() if match(d)]
        _DEVICES[runtime] = CLDevice(found[0]) if found else f"{what} is not installed"
    dev = _DEVICES[runtime]
    if isinstance(dev, str):
        pytest.skip(dev)
    return dev


@pytest.fixture(params=COMBOS, ids=[f"{r}-{f}" for r, f in COMBOS])
def device_family(request):
    """(CLDevice, family) for each runtime/family pair."""
    runtime, family = request.param
    return cl_device_for(runtime), family


@pytest.fixture(params=list(RUNTIMES))
def any_device(request):
    """A CLDevice on each installed runtime."""
    return cl_device_for(request.param)


@pytest.fixture(autouse=True)
def _quiet_compiler():
    # PoCL built for AVX2 warns about 16-wide vector ABI in its own headers
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Non-empty compiler output")
        warnings.filterwarnings("ignore", message="From-source build succeeded")
        yield
