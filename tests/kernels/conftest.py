"""OpenCL fixtures for the kernel tests: every installed CPU runtime, each PoCL by version."""

from __future__ import annotations

import pytest

from gpu_int8.scheduler.vnni_probe import vnni_supported
from tests.cl_devices import RUNTIMES, cl_device_for, quiet_compiler

#: (runtime, kernel family, portable GEMM variant) triples the kernel tests run on
COMBOS = [("intel-cpu", "intel", "auto")] + [(r, "portable", v) for r in RUNTIMES for v in ("float", "dot")] \
    + [("intel-cpu", "portable", "vnni")]


@pytest.fixture(params=COMBOS, ids=[f"{r}-{f}" + ("" if f == "intel" else f"-{v}") for r, f, v in COMBOS])
def device_family(request):
    """(CLDevice, family, variant) for each runtime/family/variant; the variant picks the portable GEMM
    kernel (depthwise convolutions: vnni adds their taps on vpdpbusd, the others on multiply-adds)."""
    runtime, family, variant = request.param
    return (vnni_device() if variant == "vnni" else cl_device_for(runtime)), family, variant


def vnni_device():
    """Intel's CPU runtime where it runs the vnni kernel, else pytest.skip."""
    dev = cl_device_for("intel-cpu")
    if not vnni_supported(dev.info, dev.cache.directory):
        pytest.skip("the vnni kernel needs Intel's CPU runtime on a CPU with AVX-512 VNNI")
    return dev


@pytest.fixture(params=list(RUNTIMES))
def any_device(request):
    """A CLDevice on each installed runtime."""
    return cl_device_for(request.param)


@pytest.fixture(autouse=True)
def _quiet_compiler():
    with quiet_compiler():
        yield
