"""Shared pytest fixtures: the real test models and their inputs (see tests/fixtures/__init__.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:  # `pytest` (unlike `python -m pytest`) does not put the repo on sys.path
    sys.path.insert(0, _REPO)

# Discover OpenCL devices before anything imports OpenVINO: once OpenVINO's own
# libraries are loaded, Intel's CPU OpenCL runtime fails to load in the same
# process and its kernel tests would silently have no device.
from gpu_int8.scheduler.devices import discover_devices  # noqa: E402

discover_devices()

from tests import fixtures  # noqa: E402


@pytest.fixture(scope="session")
def real_inputs():
    """``real_inputs(name, n, start=0)`` -> list of n float32 input arrays of model ``name``."""
    return fixtures.real_inputs


@pytest.fixture(scope="session")
def onnx_model():
    """``onnx_model(name, opset=None)`` -> path of the float ONNX model (built and cached on first use)."""
    return fixtures.onnx_model


@pytest.fixture(scope="session")
def float_ir():
    """``float_ir(name, fp16=False)`` -> path of the float OpenVINO IR ``model.xml``."""
    return fixtures.float_ir


@pytest.fixture(scope="session")
def nncf_ir():
    """``nncf_ir(name)`` -> path of NNCF's FakeQuantize IR ``model.xml`` (resnet50, ppocr_det/rec/cls)."""
    return fixtures.nncf_ir


@pytest.fixture(scope="session")
def qdq_resnet50() -> Path:
    """Path of ONNX Runtime's static QDQ ResNet-50 ``model.onnx``."""
    return fixtures.qdq_resnet50()


def pytest_terminal_summary(terminalreporter):
    """Say how long generating test models took, so a cold cache's cost is visible in CI logs."""
    built = fixtures.BUILD_SECONDS
    if built:
        parts = ", ".join(f"{kind} {seconds:.0f} s" for kind, seconds in sorted(built.items()))
        terminalreporter.write_line(f"test models generated into {fixtures.cache_root()}: "
                                    f"{sum(built.values()):.0f} s ({parts})")
