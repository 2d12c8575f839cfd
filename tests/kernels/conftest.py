"""OpenCL fixtures for the kernel tests: every installed CPU runtime, each PoCL by version."""

from __future__ import annotations

import pytest

from tests.cl_devices import RUNTIMES, cl_device_for, quiet_compiler

#: (runtime, kernel family, portable GEMM variant) triples the kernel tests run on
COMBOS = [("intel-cpu", "intel", "auto")] + [(r, "portable", v) for r in RUNTIMES for v in ("float", "dot")]


@pytest.fixture(params=COMBOS, ids=[f"{r}-{f}" + ("" if f == "intel" else f"-{v}") for r, f, v in COMBOS])
def device_family(request):
    """(CLDevice, family, variant) for each runtime/family/variant; the variant picks the portable GEMM
    kernel (depthwise convolutions have one kernel per family)."""
    runtime, family, variant = request.param
    return cl_device_for(runtime), family, variant


@pytest.fixture(params=list(RUNTIMES))
def any_device(request):
    """A CLDevice on each installed runtime."""
    return cl_device_for(request.param)


@pytest.fixture(autouse=True)
def _quiet_compiler():
    with quiet_compiler():
        yield
