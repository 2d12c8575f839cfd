"""ONNX Runtime's QDQ ResNet-50 through gpu_int8's float reference against ONNX Runtime on the same model.

gpu_int8 maps each Q->DQ pair onto FakeQuantize and the int8 weights onto
Convert -> Multiply, and computes them in float.  As for the NNCF IR
(test_fakequantize_vs_openvino.py), two checks, printed with ``-s``:

* the first quantized activations against ONNX Runtime with optimizations
  off (every Q, DQ and Conv runs as written): on the same quantization step
  but for a few ties;
* the output against ONNX Runtime's optimized run (QDQ fused into int8
  kernels): cosine >= 0.999, or within ``FLOOR_MARGIN`` of how far ONNX
  Runtime's own output moves under input noise far below a quantization step.
"""

from __future__ import annotations

import collections

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.fixtures import (
    MODELS,
    FloatReference,
    agreement,
    onnx_model,
    ort_run,
    ort_tensors,
    rounding_sensitivity,
    step_flips,
)

pytestmark = pytest.mark.slow

MIN_COSINE = 0.999
FLOOR_MARGIN = 0.005
N_INPUTS = 3
FIRST_LAYERS = 3
MAX_FLIPS = 1e-3


def test_first_quantized_layers_match_onnxruntime(qdq_resnet50, real_inputs):
    reference = FloatReference(qdq_resnet50, MODELS["resnet50"].input_shape)
    graph = reference.graph
    fake_quantizes = [n for n in graph.nodes if n.op_type == "FakeQuantize"
                      and not graph.values[n.inputs[0]].is_const][:FIRST_LAYERS]
    assert len(fake_quantizes) == FIRST_LAYERS
    x = real_inputs("resnet50", 1)[0]
    ours = reference.run_all(x)
    # a Q->DQ pair becomes one FakeQuantize whose output keeps the DequantizeLinear output's name
    theirs = ort_tensors(qdq_resnet50, x, [n.outputs[0] for n in fake_quantizes])
    for node in fake_quantizes:
        out = node.outputs[0]
        low, high = (graph.values[v].data for v in node.inputs[3:5])
        flips, worst = step_flips(ours[out], theirs[out], (high - low) / (node.attrs["levels"] - 1))
        print(f"\nresnet50 QDQ {out}: {flips:.2e} of {ours[out].size} values a step apart (at most {worst:.0f})",
              end="")
        assert flips <= MAX_FLIPS, f"{out}: {flips:.2e} of the values differ by a quantization step"


def test_qdq_reference_matches_onnxruntime(qdq_resnet50, real_inputs):
    reference = FloatReference(qdq_resnet50, MODELS["resnet50"].input_shape)
    failures = []
    for i, x in enumerate(real_inputs("resnet50", N_INPUTS)):
        expected, actual = ort_run(qdq_resnet50, x), reference.run(x)
        assert len(actual) == len(expected)
        result = agreement(actual[0], expected[0])
        floor = rounding_sensitivity(lambda v: ort_run(qdq_resnet50, v)[0], x, seed=i)
        print(f"\nresnet50 QDQ input {i}: {result}; ONNX Runtime vs itself under 1e-5 input noise: cos={floor:.6f}",
              end="")
        if result.cosine < min(MIN_COSINE, floor - FLOOR_MARGIN):
            failures.append(f"input {i}: cos {result.cosine:.6f} (ONNX Runtime's own floor {floor:.6f})")
    assert not failures, "; ".join(failures)


# -- the fixture itself, checked with ONNX Runtime alone ---------------------------------------

def test_qdq_fixture_is_per_channel_int8(qdq_resnet50, real_inputs):
    """Q/DQ pairs on activations, per-channel int8 conv weights, and ORT's int8 run stays near float."""
    model = onnx.load(str(qdq_resnet50))
    ops = collections.Counter(n.op_type for n in model.graph.node)
    inits = {i.name: i for i in model.graph.initializer}
    weight_dq = [n for n in model.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in inits
                 and numpy_helper.to_array(inits[n.input[0]]).dtype == np.int8]
    per_channel = [n for n in weight_dq if numpy_helper.to_array(inits[n.input[1]]).size > 1]
    x = real_inputs("resnet50", 1)[0]
    result = agreement(ort_run(qdq_resnet50, x)[0], ort_run(onnx_model("resnet50"), x)[0])
    print(f"\nQDQ resnet50: {dict(ops)}; {len(per_channel)}/{len(weight_dq)} per-channel i8 weights; "
          f"ORT int8 vs float: {result}", end="")
    assert ops["QuantizeLinear"] >= 50 and ops["Conv"] == 53
    assert len(per_channel) >= 50
    assert result.cosine >= 0.9
