"""OpenCL fixtures for the kernel tests: every installed CPU runtime, each PoCL by version."""

from __future__ import annotations

import pytest

from tests.cl_devices import RUNTIMES, cl_device_for, quiet_compiler

#: (runtime, kernel family) pairs the kernel tests run on
COMBOS = [("intel-cpu", "intel"), ("intel-cpu", "portable")] + [(r, "portable") for r in RUNTIMES if r != "intel-cpu"]


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
    with quiet_compiler():
        yield
