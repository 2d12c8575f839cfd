"""OpenCL fixtures of the scheduler tests: the (runtime, kernel family) pairs whole plans run on.

Plans build through the user's program cache (keyed by device, driver, options
and source hash, so an edited kernel never loads an old binary): a second test
run compiles nothing.
"""

from __future__ import annotations

import pytest

from tests.cl_devices import cl_device_for, quiet_compiler

#: what whole plans run on: Intel's runtime with both kernel families, the first PoCL with the portable one
COMBOS = [("intel-cpu", "intel"), ("intel-cpu", "portable"), ("pocl", "portable")]


@pytest.fixture(params=COMBOS, ids=[f"{r}-{f}" for r, f in COMBOS])
def device_family(request):
    """(CLDevice, family) for each runtime / kernel family pair."""
    runtime, family = request.param
    return cl_device_for(runtime), family


@pytest.fixture(params=["intel-cpu", "pocl"])
def any_device(request):
    """A CLDevice on Intel's runtime and on PoCL."""
    return cl_device_for(request.param)


@pytest.fixture(autouse=True)
def _quiet_compiler():
    with quiet_compiler():
        yield
