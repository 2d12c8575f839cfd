"""ONNX Runtime's QDQ ResNet-50 through gpu_int8's float reference against ONNX Runtime on the same model.

gpu_int8 maps each Q->DQ pair onto FakeQuantize and the int8 weights onto
Convert -> Multiply, and computes them in float; ONNX Runtime fuses the QDQ
pattern into int8 kernels.  Cosine >= 0.999 on real photos.
"""

from __future__ import annotations

import collections

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.fixtures import MODELS, FloatReference, agreement, onnx_model, ort_run

pytestmark = pytest.mark.slow

MIN_COSINE = 0.999
N_INPUTS = 3


def test_qdq_reference_matches_onnxruntime(qdq_resnet50, real_inputs):
    reference = FloatReference(qdq_resnet50, MODELS["resnet50"].input_shape)
    cosines = []
    for i, x in enumerate(real_inputs("resnet50", N_INPUTS)):
        expected, actual = ort_run(qdq_resnet50, x), reference.run(x)
        assert len(actual) == len(expected)
        result = agreement(actual[0], expected[0])
        print(f"\nresnet50 QDQ input {i}: {result}", end="")
        cosines.append(result.cosine)
    assert min(cosines) >= MIN_COSINE, f"cosine {min(cosines):.6f} < {MIN_COSINE}"


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
    assert result.cosine >= 0.95
