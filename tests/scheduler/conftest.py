"""OpenCL fixtures of the scheduler tests: a device per installed CPU runtime, and
the (runtime, kernel family) pairs whole plans run on.

Plans build through the user's program cache (keyed by device, driver, options
and source hash, so an edited kernel never loads an old binary): a second test
run compiles nothing.
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
#: what whole plans run on: Intel's runtime with both kernel families, PoCL with the portable one
COMBOS = [("intel-cpu", "intel"), ("intel-cpu", "portable"), ("pocl", "portable")]

_DEVICES: dict[str, object] = {}


def cl_device_for(runtime: str):
    """A CLDevice on ``runtime`` (one per session), or pytest.skip naming what is missing."""
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
    """(CLDevice, family) for each runtime / kernel family pair."""
    runtime, family = request.param
    return cl_device_for(runtime), family


@pytest.fixture(params=list(RUNTIMES))
def any_device(request):
    """A CLDevice on each installed runtime."""
    return cl_device_for(request.param)


@pytest.fixture(autouse=True)
def _quiet_compiler():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Non-empty compiler output")
        yield
