"""gpu_int8.load on OpenCL: device selection per config, the fallback when a kernel
does not build, Engine.device's choice and reason, profiling, and infer --profile."""

from __future__ import annotations

import numpy as np
import onnx
import pyopencl as cl
import pytest
from onnx import TensorProto, helper, numpy_helper

import gpu_int8
from gpu_int8.cli.main import main
from gpu_int8.scheduler.compile import float_ops
from tests.cl_devices import cl_device_for

SHAPE = (1, 3, 32, 32)


@pytest.fixture(scope="module")
def tiny_qdq(tmp_path_factory):
    """A small ONNX QDQ classifier: conv+relu, maxpool, global average pool, gemm, softmax."""
    rng = np.random.default_rng(0)
    nodes, inits = [], []

    def qdq(name, value, scale, zp):
        nodes.extend([helper.make_node("QuantizeLinear", [value, f"{name}_s", f"{name}_z"], [f"{name}_q"]),
                      helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_s", f"{name}_z"], [f"{name}_dq"])])
        inits.extend([numpy_helper.from_array(np.array(scale, np.float32), f"{name}_s"),
                      numpy_helper.from_array(np.array(zp, np.uint8), f"{name}_z")])
        return f"{name}_dq"

    def weights(name, shape, scale):
        inits.extend([numpy_helper.from_array(rng.integers(-100, 100, shape).astype(np.int8), f"{name}_q"),
                      numpy_helper.from_array(np.full(shape[0], scale, np.float32), f"{name}_s"),
                      numpy_helper.from_array(np.zeros(shape[0], np.int8), f"{name}_z"),
                      numpy_helper.from_array(rng.standard_normal(shape[0]).astype(np.float32), f"{name}_b")])
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_s", f"{name}_z"], [f"{name}_dq"],
                                      axis=0))
        return f"{name}_dq", f"{name}_b"

    x = qdq("in", "x", 0.03, 128)
    w, b = weights("w1", (16, 3, 3, 3), 0.002)
    nodes += [helper.make_node("Conv", [x, w, b], ["conv"], pads=[1, 1, 1, 1], strides=[2, 2]),
              helper.make_node("Relu", ["conv"], ["relu"])]
    r = qdq("r", "relu", 0.05, 0)
    nodes.append(helper.make_node("MaxPool", [r], ["mp"], kernel_shape=[2, 2], strides=[2, 2]))
    m = qdq("m", "mp", 0.05, 0)
    nodes.append(helper.make_node("GlobalAveragePool", [m], ["gap"]))
    g = qdq("g", "gap", 0.02, 0)
    nodes.append(helper.make_node("Flatten", [g], ["flat"]))
    w, b = weights("w2", (10, 16), 0.003)
    nodes += [helper.make_node("Gemm", ["flat", w, b], ["logits"], transB=1),
              helper.make_node("Softmax", ["logits"], ["prob"], axis=1)]
    graph = helper.make_graph(nodes, "tiny_qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, SHAPE)],
                              [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path_factory.mktemp("tiny") / "tiny_qdq.onnx"
    onnx.save(model, path)
    return path


def config(tmp_path, **kw):
    return {"cache_dir": str(tmp_path / "cache"), **kw}


def test_opencl_engine_matches_reference(tiny_qdq, tmp_path):
    cl_device_for("intel-cpu")
    x = np.random.default_rng(1).standard_normal(SHAPE).astype(np.float32)
    ref = gpu_int8.load(tiny_qdq, config(tmp_path, device="reference"))
    assert ref.device.kind == "reference" and ref.profile() is None
    eng = gpu_int8.load(tiny_qdq, config(tmp_path, device="Intel(R) OpenCL", kernels="portable", profiling=True))
    assert eng.device.kind == "opencl" and eng.device.kernels == "portable"
    assert "Intel" in eng.device.name and "requested" in eng.device.reason
    np.testing.assert_allclose(eng.infer({"x": x})["prob"], ref.infer({"x": x})["prob"], rtol=1e-5, atol=1e-7)
    profile = eng.profile()
    assert [p.kind for p in profile] == [s.kind for s in eng.schedule.steps]
    kernels = {p.kernel for p in profile}
    assert {"softmax", "reduce_mean"} <= kernels and kernels & {"max_pool", "max_pool16"}
    # without profiling: a queue that records no device times, the same outputs, no profile
    plain = gpu_int8.load(tiny_qdq, config(tmp_path, device="Intel(R) OpenCL", kernels="portable"))
    np.testing.assert_array_equal(plain.infer({"x": x})["prob"], eng.infer({"x": x})["prob"])
    assert plain.profile() is None
    assert not plain._executor.queue.properties & cl.command_queue_properties.PROFILING_ENABLE


def test_auto_and_forced_kernel_families(tiny_qdq, tmp_path):
    cl_device_for("intel-cpu")
    eng = gpu_int8.load(tiny_qdq, config(tmp_path))
    assert eng.device.kind == "opencl" and eng.device.kernels == "portable"  # CPUs: portable kernels
    assert "auto" in eng.device.reason
    eng = gpu_int8.load(tiny_qdq, config(tmp_path, device="Intel(R) OpenCL", kernels="intel", profiling=True))
    assert eng.device.kind == "opencl" and eng.device.kernels == "intel"
    eng.infer({"x": np.zeros(SHAPE, np.float32)})
    assert any(p.kernel.startswith("conv_gemm_intel") for p in eng.profile())


def broken_softmax(fail_times: int):
    """kernel_source that returns a softmax with a syntax error for the first ``fail_times`` builds."""
    real = float_ops.kernel_source
    calls = {"n": 0}

    def source(name):
        kernel = {"plan_softmax.cl": "softmax", "plan_softmax_rows.cl": "softmax_rows"}.get(name)
        if kernel and calls["n"] < fail_times:
            calls["n"] += 1
            return f"__kernel void {kernel}(__global float *y, __global const float *x) {{ y[0] = undefined_thing; }}\n"
        return real(name)

    return source


def test_build_failure_falls_back_with_a_warning(tiny_qdq, tmp_path, monkeypatch):
    cl_device_for("intel-cpu")
    monkeypatch.setattr(float_ops, "kernel_source", broken_softmax(1))
    failed = r"kernel 'softmax(_rows)?__\w+' \(step 'prob'\) did not build.*undefined_thing"
    with pytest.warns(RuntimeWarning, match=failed):
        eng = gpu_int8.load(tiny_qdq, config(tmp_path, device="Intel(R) OpenCL", kernels="intel"))
    assert eng.device.kind == "reference"  # a forced family and a named device leave no other choice
    monkeypatch.setattr(float_ops, "kernel_source", broken_softmax(1))
    with pytest.warns(RuntimeWarning, match="undefined_thing"):
        eng = gpu_int8.load(tiny_qdq, config(tmp_path))  # auto: the next device in the auto order
    assert eng.device.kind == "opencl" and "fallback" in eng.device.reason
    assert "softmax" in eng.device.reason and "undefined_thing" in eng.device.reason
    x = np.zeros(SHAPE, np.float32)
    ref = gpu_int8.load(tiny_qdq, config(tmp_path, device="reference"))
    np.testing.assert_allclose(eng.infer({"x": x})["prob"], ref.infer({"x": x})["prob"], rtol=1e-5, atol=1e-7)


def test_no_plan_builds_gives_the_reference(tiny_qdq, tmp_path, monkeypatch):
    cl_device_for("intel-cpu")
    monkeypatch.setattr(float_ops, "kernel_source", broken_softmax(99))
    with pytest.warns(RuntimeWarning):
        eng = gpu_int8.load(tiny_qdq, config(tmp_path, device="cpu"))
    assert eng.device.kind == "reference"
    assert "no OpenCL plan could be built" in eng.device.reason and "softmax" in eng.device.reason


@pytest.mark.parametrize("asked_by", ["--profile", "profiling: true"])
def test_infer_profile_cli(tiny_qdq, tmp_path, capsys, asked_by):
    cl_device_for("pocl")
    cfg = tmp_path / "pocl.yaml"
    cfg.write_text(f"device: Portable Computing Language\nkernels: portable\ncache_dir: {tmp_path / 'cache'}\n"
                   + ("profiling: true\n" if asked_by.startswith("profiling") else ""))
    flags = ["--profile"] if asked_by == "--profile" else []
    assert main(["infer", "-m", str(tiny_qdq), "-c", str(cfg), *flags]) == 0
    out = capsys.readouterr().out
    assert "portable kernels" in out and "profile: 8 steps" in out
    lines = [ln for ln in out.splitlines() if " ms  " in ln]
    assert len(lines) == 8 and any("conv_gemm_portable" in ln for ln in lines)
    assert any("softmax" in ln and "FP32" in ln for ln in lines)


def test_infer_without_profiling_prints_no_steps(tiny_qdq, tmp_path, capsys):
    cl_device_for("pocl")
    cfg = tmp_path / "pocl.yaml"
    cfg.write_text(f"device: Portable Computing Language\nprofiling: false\ncache_dir: {tmp_path / 'cache'}\n")
    assert main(["infer", "-m", str(tiny_qdq), "-c", str(cfg)]) == 0
    assert "profile:" not in capsys.readouterr().out
