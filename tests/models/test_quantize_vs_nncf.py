"""gpu_int8's own quantizer on the real float models, against NNCF on the same models.

``gpu_int8.quantize`` turns the float ONNX model into a FakeQuantize IR with as many
calibration inputs as the NNCF fixture uses.  Then:

* every convolution and matrix product runs in int8 in gpu_int8's schedule, and only the
  layers listed in FLOAT_LAYERS stay float;
* OpenVINO loads the IR and runs its convolutions in u8/i8;
* against the float model (ONNX Runtime), OpenVINO running our IR, and gpu_int8's int8
  executor running it, are at least about as accurate as OpenVINO running NNCF's IR:
  paired over real inputs, in mean cosine and in decisions (class, character per step,
  text mask; for PP-OCR det only the mask, since its pictures without text give a
  background map whose cosine measures noise);
* the PP-OCR models, quantized at one input size, run at another (a larger page, a longer
  line) in gpu_int8 and in OpenVINO, as accurately as OpenVINO runs them there.
"""

from __future__ import annotations

import numpy as np
import pytest

from gpu_int8.api import load_graph
from gpu_int8.lpt import transform
from gpu_int8.quantization import quantize
from gpu_int8.reference.int8_executor import Int8Executor
from tests import fixtures
from tests.fixtures import images
from tests.fixtures.ocr_models import source_path
from tests.fixtures.ov_models import NNCF_SUBSET
from tests.lpt.test_models_int8 import COSINE_MARGIN, DECISION_MARGIN, _cosine, _decision, _not_worse

pytestmark = pytest.mark.slow

#: ops that stay float (no int8 form): Softmax, and the layer norms' normalization of rec, which
#: the quantizer folds into MVN as OpenVINO's converter does
FLOAT_LAYERS = {
    "resnet50": {"Softmax"},
    "ppocr_cls": {"Softmax"},
    "ppocr_det": set(),
    "ppocr_rec": {"Softmax", "MVN"},
}
INPUTS = {"resnet50": 30, "ppocr_cls": 20, "ppocr_rec": 10, "ppocr_det": 6}
INT8_OPS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "MatMul")
#: an input size each OCR model was not calibrated at, and real inputs of that size
OTHER_SIZES = {
    "ppocr_det": ((1, 3, 736, 736), lambda n: images.det_inputs(n, size=736)),
    "ppocr_rec": ((1, 3, 48, 640), lambda n: images.line_inputs(n, 640, seed=640)),
    "ppocr_cls": ((1, 3, 48, 320), lambda n: images.line_inputs(n, 320, seed=321)),
}


@pytest.fixture(scope="module", params=list(FLOAT_LAYERS))
def quantized(request, tmp_path_factory):
    name = request.param
    spec = fixtures.MODELS[name]
    calibration = [{spec.input_name: x} for x in fixtures.calibration_inputs(name, NNCF_SUBSET[name])]
    out = tmp_path_factory.mktemp(name) / "model.xml"
    report = quantize(fixtures.onnx_model(name), calibration, out, shapes={spec.input_name: spec.input_shape})
    print(f"\n{name}: {report}")
    return name, out


def test_every_convolution_and_matmul_runs_in_int8(quantized):
    name, path = quantized
    graph = load_graph(path)
    schedule = transform(graph)
    step_of = {node: step for step in schedule.steps for _, node in step.absorbed}
    compute = [n for n in graph.nodes if n.op_type in INT8_OPS]
    float_compute = [n.name for n in compute if schedule.precision(step_of[n.name]) == "FP32"]
    assert compute and not float_compute, f"{name}: left in float: {float_compute}"
    summary = schedule.summary()
    print(f"\n{name}: {summary.line()}")
    assert {op for op, _, _ in summary.float_layers} == FLOAT_LAYERS[name]


def test_openvino_runs_it_in_int8(quantized):
    import openvino as ov

    _, path = quantized
    compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    info = [op.get_rt_info() for op in compiled.get_runtime_model().get_ordered_ops()]
    convs = [i["runtimePrecision"].astype(str) for i in info if i["layerType"].astype(str) == "Convolution"]
    assert convs and set(convs) <= {"u8", "i8"}, set(convs)


def test_as_accurate_as_nncf(quantized):
    name, path = quantized
    graph = load_graph(path)
    ours = Int8Executor(transform(graph))
    rows = []
    for x in fixtures.real_inputs(name, INPUTS[name]):
        reference = fixtures.ort_run(fixtures.onnx_model(name), x)[0]
        outputs = (fixtures.ov_run(path, x)[0], ours.run({graph.inputs[0]: x})[graph.outputs[0]],
                   fixtures.ov_run(fixtures.nncf_ir(name), x)[0])
        rows.append([v for y in outputs for v in (
            _cosine(y, reference), np.mean(_decision(name, y) == _decision(name, reference)))])
    r = np.array(rows)
    print(f"\n{name}, {len(r)} real inputs, against the float model (cosine min/mean; decisions):")
    for i, who in enumerate(("OpenVINO, our IR", "gpu_int8 int8, our IR", "OpenVINO, NNCF's IR")):
        print(f"  {who:22s} {r[:, 2 * i].min():.4f} / {r[:, 2 * i].mean():.4f}; {r[:, 2 * i + 1].mean():.4f}")
    for i, who in ((0, "OpenVINO on our IR"), (1, "gpu_int8 on our IR")):
        if name != "ppocr_det":
            _not_worse(r[:, 2 * i], r[:, 4], COSINE_MARGIN, f"{who}: cosine to float vs NNCF's")
        _not_worse(r[:, 2 * i + 1], r[:, 5], DECISION_MARGIN, f"{who}: decisions vs NNCF's")


def test_it_runs_at_other_input_sizes(quantized):
    """Shape computations (rec's attention reshapes) are written back, not frozen at the
    calibration size: the IR takes a larger page or a longer line, in gpu_int8 (a ``--shape``
    override) and in OpenVINO (``reshape``)."""
    import openvino as ov

    name, path = quantized
    if name not in OTHER_SIZES:
        pytest.skip("only the OCR models take free input sizes")
    shape, inputs = OTHER_SIZES[name]
    spec = fixtures.MODELS[name]
    graph = load_graph(path, {spec.input_name: shape})
    ours = Int8Executor(transform(graph))
    core = ov.Core()
    model = core.read_model(str(path))
    model.reshape({spec.input_name: list(shape)})
    theirs = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    rows = []
    for x in inputs(3):
        reference = fixtures.ort_run(source_path(name), x)[0]  # the wheel's model: its size is free
        mine = ours.run({spec.input_name: x})[graph.outputs[0]]
        other = np.asarray(theirs({0: x})[theirs.outputs[0]])
        assert mine.shape == other.shape == reference.shape
        rows.append([_cosine(mine, reference), _cosine(other, reference), _cosine(mine, other),
                     np.mean(_decision(name, mine) == _decision(name, reference)),
                     np.mean(_decision(name, other) == _decision(name, reference))])
    r = np.array(rows)
    print(f"\n{name} at {list(shape)}: cosine to float gpu_int8 {r[:, 0].min():.4f} / {r[:, 0].mean():.4f}, "
          f"OpenVINO {r[:, 1].min():.4f} / {r[:, 1].mean():.4f}; gpu_int8 vs OpenVINO {r[:, 2].min():.4f}; "
          f"decisions {r[:, 3].mean():.4f} vs {r[:, 4].mean():.4f}")
    if name != "ppocr_det":
        _not_worse(r[:, 0], r[:, 1], COSINE_MARGIN, "gpu_int8 vs OpenVINO at another size: cosine to float")
    _not_worse(r[:, 3], r[:, 4], DECISION_MARGIN, "gpu_int8 vs OpenVINO at another size: decisions")
