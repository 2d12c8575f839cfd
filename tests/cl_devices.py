"""OpenCL devices for the kernel and scheduler tests: one per installed CPU runtime.

The pip runtimes are registered before anything queries OpenCL platforms (the
ICD loader reads its vendor list once per process).
"""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager

import pytest

from gpu_int8.scheduler.devices import discover_devices
from gpu_int8.scheduler.runtimes import register_runtimes

register_runtimes()


def _pocl_runtimes() -> dict:
    """One entry per installed PoCL (pip's 3.0 and Debian's 3.1 may both be there), by version."""
    found = {}
    for d in discover_devices():
        if d.is_pocl:
            m = re.search(r"PoCL (\S+)", d.platform_version)
            found[f"pocl-{m.group(1) if m else d.index}"] = (d.platform_version,
                                                            lambda x, v=d.platform_version: x.platform_version == v)
    return found or {"pocl": ("PoCL (pip: pocl-binary-distribution, or Debian: pocl-opencl-icd)",
                              lambda d: d.is_pocl)}


#: runtime id -> (what to install, which devices it is)
RUNTIMES = {
    "intel-cpu": ("Intel CPU OpenCL runtime (pip: intel-opencl-rt, intel-cmplr-lib-rt)",
                  lambda d: d.is_intel_cpu_runtime),
    **_pocl_runtimes(),
}

_DEVICES: dict[str, object] = {}


def cl_device_for(runtime: str):
    """A CLDevice on ``runtime`` (one per session; ``"pocl"``: the first PoCL found), or
    pytest.skip naming what is missing."""
    if runtime == "pocl":
        runtime = next(r for r in RUNTIMES if r.startswith("pocl"))
    if runtime not in _DEVICES:
        from gpu_int8.runtime.cl_backend import CLDevice

        what, match = RUNTIMES[runtime]
        found = [d for d in discover_devices() if match(d)]
        _DEVICES[runtime] = CLDevice(found[0]) if found else f"{what} is not installed"
    dev = _DEVICES[runtime]
    if isinstance(dev, str):
        pytest.skip(dev)
    return dev


@contextmanager
def quiet_compiler():
    """Silence compiler chatter (PoCL built for AVX2 warns about 16-wide vector ABI in its headers)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Non-empty compiler output")
        warnings.filterwarnings("ignore", message="From-source build succeeded")
        yield
