"""Real models on OpenCL against the int8 reference executor, tensor by tensor.

NNCF's FakeQuantize IR of ResNet-50 and PP-OCRv4 det/rec/cls, and ONNX Runtime's
QDQ ResNet-50, each on a real input, on Intel's CPU runtime (both kernel
families) and PoCL (portable).  Every tensor a plan stores is compared with
the reference's (plans built with ``keep_all``): integer tensors equal, except
that a requantized value may differ by 1 on at most 0.1% of a tensor's
elements (transcendental activations); float tensors (the final Softmax, float
layers) to float32 summation-order error.  Only float layers may run on the host.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from gpu_int8.api import load_graph
from gpu_int8.lpt import transform
from gpu_int8.reference.int8_executor import Int8Executor
from gpu_int8.runtime.plan_executor import PlanExecutor
from gpu_int8.scheduler.plan import build_plan
from gpu_int8.scheduler.vnni_probe import vnni_supported

pytestmark = pytest.mark.slow

MODELS = ["ppocr_cls", "resnet50", "qdq_resnet50", "ppocr_rec", "ppocr_det"]


@functools.lru_cache(maxsize=2)
def model(name: str):
    from tests import fixtures

    path = fixtures.qdq_resnet50() if name == "qdq_resnet50" else fixtures.nncf_ir(name)
    graph = load_graph(path)
    schedule = transform(graph)
    x = fixtures.real_inputs("resnet50" if name == "qdq_resnet50" else name, 1)[0]
    feeds = {graph.inputs[0]: x}
    return schedule, feeds, Int8Executor(schedule).run(feeds, keep_all=True)


def check_tensor(label: str, got: np.ndarray, want: np.ndarray) -> int:
    """Assert the contract; returns how many elements differ."""
    assert got.shape == want.shape, label
    if np.issubdtype(want.dtype, np.integer):
        diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
        assert diff.max(initial=0) <= 1, f"{label}: differs by up to {diff.max()}"
        assert np.mean(diff > 0) <= 0.001, f"{label}: {np.mean(diff > 0):.3%} of the values differ by 1"
        return int(np.count_nonzero(diff))
    scale = float(np.abs(want).max(initial=0)) or 1.0
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale, err_msg=label)
    return 0


@pytest.mark.parametrize("name", MODELS)
def test_real_model_on_opencl(name, device_family):
    device, family = device_family
    schedule, feeds, want = model(name)
    plan = build_plan(schedule, device, family, 16, keep_all=True)
    executor = PlanExecutor(plan)
    outputs = executor.run(feeds)
    differing, compared = 0, 0
    for sp in plan.steps:
        outs = sp.step.outputs[:1] if sp.step.op_type == "MaxPool" else sp.step.outputs  # indices unused
        for tensor in outs:
            if tensor in executor.buffers and tensor in want:
                differing += check_tensor(f"{sp.kernel} step '{sp.step.name}' ({tensor})", executor._read(tensor),
                                          want[tensor])
                compared += 1
    assert compared >= len(schedule.steps) - 2
    reference = Int8Executor(schedule).run(feeds)
    for tensor, value in reference.items():
        check_tensor(f"output {tensor}", outputs[tensor], value)
    for sp in plan.host_steps:
        assert sp.step.kind == "float", f"int8 step {sp.step.name} ({sp.step.kind}) ran on the host"
    # runs of steps as one kernel (rec's layer norms with their quantization, chained moves,
    # convolutions storing into their Concat), every tensor kept
    fused = build_plan(schedule, device, family, 16, keep_all=True, fuse=True)
    fused_executor = PlanExecutor(fused)
    fused_executor.run(feeds)
    for sp in fused.steps:
        for tensor in sp.step.outputs[:1]:
            if tensor in fused_executor.buffers and tensor in want:
                check_tensor(f"{sp.kernel} step '{sp.step.name}' ({tensor}, fused)", fused_executor._read(tensor),
                             want[tensor])
    if name == "ppocr_rec":
        assert sum(sp.kernel == "mvn_q" for sp in fused.steps) == 5
    shared = build_plan(schedule, device, family, 16)  # buffers shared, steps fused
    for tensor, value in PlanExecutor(shared).run(feeds).items():
        check_tensor(f"output {tensor} (shared buffers)", value, outputs[tensor])
    print(f"{name} {family} on {device.info.label()}: {compared} tensors, {differing} values off by one; "
          f"{plan.summary()}")


@functools.lru_cache(maxsize=1)
def light_quantized(name: str):
    """The light topology ``name`` quantized by gpu_int8 on four photos (not cached on disk: it
    follows the quantizer's code), its schedule, a fifth photo and the reference's tensors."""
    import tempfile
    from pathlib import Path

    from gpu_int8.quantization import quantize
    from tests.fixtures.images import classifier_inputs
    from tests.fixtures.light_models import light_model

    photos = classifier_inputs(5)
    graph = load_graph(light_model(name))
    with tempfile.TemporaryDirectory(prefix="gpu_int8_light_") as folder:
        path = Path(folder) / f"{name}_int8.xml"
        quantize(light_model(name), [{graph.inputs[0]: x} for x in photos[:4]], path)
        schedule = transform(load_graph(path))
    feeds = {graph.inputs[0]: photos[4]}
    return schedule, feeds, Int8Executor(schedule).run(feeds, keep_all=True)


# each model's runs next to each other: light_quantized keeps one model at a time (AlexNet on PoCL too)
LIGHT_RUNS = [(name, runtime) for name in ("squeezenet", "shufflenet", "inception_v1", "inception_v2",
                                           "densenet121", "resnet50", "bvlc_alexnet", "zfnet512", "vgg19")
              for runtime in ("intel-cpu", "pocl") if runtime == "intel-cpu" or name == "bvlc_alexnet"]


@pytest.mark.parametrize("name, runtime", LIGHT_RUNS, ids=[f"{n}-{r}" for n, r in LIGHT_RUNS])
def test_light_model_quantized_on_opencl(name, runtime):
    """The onnx wheel's topologies, quantized by gpu_int8, run every step as a kernel (LRN in
    AlexNet, ZFNet and GoogLeNet too) and store what the int8 reference computes."""
    from tests.cl_devices import cl_device_for

    device = cl_device_for(runtime)
    schedule, feeds, want = light_quantized(name)
    plan = build_plan(schedule, device, "portable", 16, keep_all=True)
    outputs = _check_plan(plan, schedule, feeds, want)
    if name in ("bvlc_alexnet", "zfnet512", "inception_v1"):
        assert sum(sp.kernel == "lrn" for sp in plan.steps) == 2
    # runs of steps as one kernel (LRN with its quantization, consecutive moves, convolutions
    # storing into their Concat), every tensor kept
    fused = build_plan(schedule, device, "portable", 16, keep_all=True, fuse=True)
    _check_plan(fused, schedule, feeds, want)
    if name in ("bvlc_alexnet", "zfnet512", "inception_v1"):  # 16 channels of a pixel at a time on Intel's runtime
        assert sum(sp.kernel == ("lrn_q_rows" if runtime == "intel-cpu" else "lrn_q") for sp in fused.steps) == 2
    if name in ("inception_v1", "squeezenet", "densenet121") and runtime == "intel-cpu" \
            and vnni_supported(device.info, device.cache.directory):  # branches stored into their Concat
        assert any(sp.kernel.endswith(":in_place") for sp in fused.steps)
    shared = build_plan(schedule, device, "portable", 16)  # buffers shared
    for tensor, value in PlanExecutor(shared).run(feeds).items():
        check_tensor(f"output {tensor} (shared buffers)", value, outputs[tensor])
    if name == "shufflenet":  # 16 channel shuffles: Reshape, Transpose, Reshape -> one copy each
        assert sum(sp.kernel == "fused" for sp in shared.steps) == 32


def _check_plan(plan, schedule, feeds, want) -> dict:
    """Runs ``plan`` (built with ``keep_all``), checks every tensor it stores and its outputs
    against the reference, and returns the outputs."""
    executor = PlanExecutor(plan)
    outputs = executor.run(feeds)
    assert not plan.host_steps, [sp.step.name for sp in plan.host_steps]
    compared = 0
    for sp in plan.steps:
        outs = sp.step.outputs[:1] if sp.step.op_type == "MaxPool" else sp.step.outputs
        for tensor in outs:
            if tensor in executor.buffers and tensor in want:
                check_tensor(f"{sp.kernel} step '{sp.step.name}' ({tensor})", executor._read(tensor), want[tensor])
                compared += 1
    assert compared >= sum(1 for sp in plan.steps if sp.kernel != "fused") - 2
    for tensor, value in Int8Executor(schedule).run(feeds).items():
        check_tensor(f"output {tensor}", outputs[tensor], value)
    return outputs
