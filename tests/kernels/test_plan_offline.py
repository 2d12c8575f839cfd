"""Whole plans on paper for Iris Xe (tgllp) and Xe MAX (dg1): the scheduler compiles a
schedule for the described GPU and ``ocloc`` builds every program of it.  Each kernel a
model's plan holds - not only the convolution families - must build, without register
spills, and the convolutions must use dp4a."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_int8.api import load_graph
from gpu_int8.cli.main import main
from gpu_int8.lpt import transform
from gpu_int8.scheduler.offline import OFFLINE_DEVICES, find_ocloc
from gpu_int8.scheduler.offline_plan import compile_plan_offline, described_gpu
from tests import fixtures
from tests.scheduler.schedules import zoo

pytestmark = pytest.mark.skipif(find_ocloc() is None,
                                reason="ocloc not installed (apt-get install intel-opencl-icd)")


@pytest.mark.parametrize("target", OFFLINE_DEVICES)
def test_every_kernel_of_the_zoo_builds_for_the_gpu(target):
    plan = compile_plan_offline(zoo(), target)
    print(plan.summary())
    assert plan.family == "intel" and not plan.spilling, [r.line() for r in plan.spilling]
    kernels = {sp.step.name: sp.kernel for sp in plan.steps}
    assert {name for name, k in kernels.items() if k == "host"} == {"sq", "ab"}  # no kernel for Sqrt, Abs
    assert kernels["c1"] == "conv_gemm_intel" and kernels["fc"] == "matmul_rows"
    gemms = [r for r in plan.reports if r.kernel.startswith("conv_gemm_intel")]
    assert gemms and all(r.dp4a >= 16 for r in gemms)  # (the zoo's short reductions unroll: no loop)
    assert len(plan.reports) >= 30


def test_a_described_gpu_is_what_selection_wants():
    info = described_gpu("tgllp")
    assert info.is_gpu and info.has_dp4a and info.supports_intel_family and info.cl_std_option == "-cl-std=CL3.0"
    with pytest.raises(ValueError, match="unknown offline GPU 'xe9'"):
        described_gpu("xe9")


def test_inspect_offline_shows_the_plan_of_a_real_model(tmp_path, capsys):
    from gpu_int8 import demo, quantize

    rng = np.random.default_rng(0)
    model = tmp_path / "cls_int8.xml"
    quantize(demo.cls_model_path(), [{"x": rng.uniform(-1, 1, demo.CLS_SHAPE).astype(np.float32)}
                                     for _ in range(2)], model, shapes={"x": demo.CLS_SHAPE})
    assert main(["inspect", "-m", str(model), "--offline", "dg1"]) == 0
    printed = capsys.readouterr().out
    assert "plan for dg1:" in printed and "conv_gemm_intel" in printed and "dwconv_intel" in printed
    assert "compiled by ocloc for dg1 (intel family)" in printed and ", 0 spilling registers" in printed


@pytest.mark.slow
@pytest.mark.parametrize("name", fixtures.NNCF_NAMES)
def test_real_models_build_for_iris_xe(name):
    plan = compile_plan_offline(transform(load_graph(fixtures.nncf_ir(name))), "tgllp")
    print(f"\n{name}: {plan.summary()}")
    assert not plan.spilling, [r.line() for r in plan.spilling]
    assert not [sp.step.name for sp in plan.steps if sp.where == "host"]
    assert np.mean([r.dp4a > 0 for r in plan.reports if r.kernel.startswith("conv_gemm_intel")]) == 1.0
