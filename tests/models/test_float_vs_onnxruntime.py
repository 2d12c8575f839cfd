"""Float models through gpu_int8 (reader + shape pass + FloatExecutor) against the oracles.

Every light model (opset 13 and its original opset 9), the three PP-OCR
models, and their OpenVINO IR: max abs error <= 1e-3 of the output's range
on real inputs.  The fp32 IR is held against ONNX Runtime on the ONNX it was
converted from; the fp16-compressed IR against OpenVINO on the same IR (its
weights are no longer the ONNX ones).  Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures import (
    ALL_NAMES,
    LIGHT_NAMES,
    MODELS,
    FloatReference,
    agreement,
    float_ir,
    light_stats,
    onnx_model,
    ort_run,
    ov_run,
)

pytestmark = pytest.mark.slow

REL_TOL = 1e-3
#: real inputs compared per model form (the numpy reference is slow on the big ones)
N_INPUTS = {"onnx": 3, "onnx_opset9": 1, "ir": 2, "ir_fp16": 1}
CASES = [(name, form) for name in ALL_NAMES for form in N_INPUTS
         if form != "onnx_opset9" or name in LIGHT_NAMES]


def _model_and_oracle(name: str, form: str):
    if form == "onnx":
        path = onnx_model(name)
        return path, lambda x: ort_run(path, x)
    if form == "onnx_opset9":
        path = onnx_model(name, opset=9)
        return path, lambda x: ort_run(path, x)
    if form == "ir":
        src = onnx_model(name)
        return float_ir(name), lambda x: ort_run(src, x)
    path = float_ir(name, fp16=True)
    return path, lambda x: ov_run(path, x)


@pytest.mark.parametrize("name,form", CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_float_reference_matches_oracle(name, form, real_inputs):
    path, oracle = _model_and_oracle(name, form)
    reference = FloatReference(path, MODELS[name].input_shape)
    worst = 0.0
    for i, x in enumerate(real_inputs(name, N_INPUTS[form])):
        expected, actual = oracle(x), reference.run(x)
        assert len(actual) == len(expected), f"{len(actual)} outputs, the oracle gives {len(expected)}"
        for k, (a, e) in enumerate(zip(actual, expected)):
            result = agreement(a, e)
            print(f"\n{name} [{form}] input {i} output {k}: {result}", end="")
            worst = max(worst, result.rel_max)
    assert worst <= REL_TOL, f"{name} [{form}]: max abs error {worst:.3g} of the output range > {REL_TOL}"


# -- the fixtures themselves, checked with the oracles alone --------------------------------

@pytest.mark.parametrize("name", LIGHT_NAMES)
def test_light_fixture_is_realistic(name, real_inputs):
    """Fitted weights: logits O(1), outputs differ between photos, opset 9 and 13 forms agree."""
    stats = light_stats(name)
    print(f"\n{name}: {stats}", end="")
    assert 1.0 <= stats["logits_std"] <= 4.0
    xs = real_inputs(name, 10)
    outs = [ort_run(onnx_model(name), x)[0] for x in xs]
    assert all(np.all(np.isfinite(o)) for o in outs)
    assert len({int(o.argmax()) for o in outs}) >= 3, "the model gives (nearly) the same answer for every photo"
    old = ort_run(onnx_model(name, opset=9), xs[0])[0]
    assert agreement(old, outs[0]).rel_max <= 1e-5


@pytest.mark.parametrize("name", ALL_NAMES)
def test_float_ir_fixture_matches_onnxruntime(name, real_inputs):
    """OpenVINO on the converted IR (fp32 and fp16 weights) follows ONNX Runtime on the ONNX."""
    x = real_inputs(name, 1)[0]
    expected = ort_run(onnx_model(name), x)[0]
    fp32 = agreement(ov_run(float_ir(name), x)[0], expected)
    fp16 = agreement(ov_run(float_ir(name, fp16=True), x)[0], expected)
    print(f"\n{name}: OpenVINO fp32 IR vs ORT {fp32}; fp16 IR vs ORT {fp16}", end="")
    assert fp32.rel_max <= REL_TOL
    assert fp16.cosine >= 0.99
