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
    """A CLDevice on ``runtime`` (one per session; ``"pocl"``: the first PoCL found that
    compiles), or pytest.skip naming what is missing."""
    if runtime == "pocl":
        poclz = [r for r in RUNTIMES if r.startswith("pocl")]
        runtime = next((r for r in poclz if not isinstance(_device(r), str)), poclz[0])
    dev = _device(runtime)
    if isinstance(dev, str):
        pytest.skip(dev)
    return dev


def _device(runtime: str):
    """The CLDevice of ``runtime``, or why there is none: not installed, or its compiler cannot
    build for this CPU (pip's PoCL 3.0-rc2, on LLVM 14, fails every build on CPUs LLVM 14 does
    not know: "unknown target CPU 'generic'")."""
    if runtime not in _DEVICES:
        import pyopencl as cl

        from gpu_int8.runtime.cl_backend import CLDevice

        what, match = RUNTIMES[runtime]
        found = [d for d in discover_devices() if match(d)]
        if not found:
            _DEVICES[runtime] = f"{what} is not installed"
        else:
            dev = CLDevice(found[0])
            try:
                with quiet_compiler():
                    cl.Program(dev.context, "__kernel void probe(__global int *a) { a[0] = 1; }").build()
                _DEVICES[runtime] = dev
            except cl.Error as exc:
                reason = next((line for line in str(exc).splitlines() if "error" in line.lower()), str(exc))
                _DEVICES[runtime] = f"{found[0].label()} cannot build kernels on this CPU: {reason.strip()[:200]}"
    return _DEVICES[runtime]


@contextmanager
def quiet_compiler():
    """Silence compiler chatter (PoCL built for AVX2 warns about 16-wide vector ABI in its headers)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Non-empty compiler output")
        warnings.filterwarnings("ignore", message="From-source build succeeded")
        yield
