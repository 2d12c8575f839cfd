"""NNCF's FakeQuantize IR through gpu_int8's float reference against OpenVINO CPU on the same IR.

gpu_int8 computes FakeQuantize exactly in float; OpenVINO runs the IR in
int8 (its own LPT), so the two agree closely but not bit for bit: cosine
>= 0.999 on real inputs.  Run with ``-s`` to see cosine and max error.
"""

from __future__ import annotations

import re

import pytest

from tests.fixtures import MODELS, NNCF_NAMES, FloatReference, agreement, float_ir, nncf_ir, ov_run

pytestmark = pytest.mark.slow

MIN_COSINE = 0.999
N_INPUTS = 3


@pytest.mark.parametrize("name", NNCF_NAMES)
def test_fakequantize_reference_matches_openvino(name, real_inputs):
    xml = nncf_ir(name)
    reference = FloatReference(xml, MODELS[name].input_shape)
    cosines = []
    for i, x in enumerate(real_inputs(name, N_INPUTS)):
        expected, actual = ov_run(xml, x), reference.run(x)
        assert len(actual) == len(expected)
        for k, (a, e) in enumerate(zip(actual, expected)):
            result = agreement(a, e)
            print(f"\n{name} NNCF IR input {i} output {k}: {result}", end="")
            cosines.append(result.cosine)
    assert min(cosines) >= MIN_COSINE, f"{name}: cosine {min(cosines):.6f} < {MIN_COSINE}"


# -- the fixture itself, checked with OpenVINO alone ------------------------------------------

@pytest.mark.parametrize("name", NNCF_NAMES)
def test_nncf_fixture_is_int8(name, real_inputs):
    """The IR carries FakeQuantize on activations and i8 weights, and OpenVINO's int8 run of it
    stays close to the float model."""
    text = nncf_ir(name).read_text()
    fake_quantize = len(re.findall(r'type="FakeQuantize"', text))
    i8_weights = len(re.findall(r'type="Const"[^>]*>\s*<data[^>]*element_type="i8"', text))
    x = real_inputs(name, 1)[0]
    result = agreement(ov_run(nncf_ir(name), x)[0], ov_run(float_ir(name), x)[0])
    print(f"\n{name}: {fake_quantize} FakeQuantize, {i8_weights} i8 weight constants; "
          f"OpenVINO int8 vs float: {result}", end="")
    assert fake_quantize >= 5 and i8_weights >= 5
    assert result.cosine >= 0.95
