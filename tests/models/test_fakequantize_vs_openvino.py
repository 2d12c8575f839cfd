"""NNCF's FakeQuantize IR through gpu_int8's float reference against OpenVINO CPU on the same IR.

gpu_int8 computes FakeQuantize exactly in float; OpenVINO runs the IR in
int8 (its own LPT).  Two checks, printed with ``-s``:

* layer by layer, where rounding has had no room to spread: the first
  quantized activations must sit on the same quantization step as
  OpenVINO's on all but a few ties (share of elements a step apart
  <= ``MAX_FLIPS``).  A wrong stride, pad, rounding rule or per-channel range
  moves far more.
* at the output: cosine >= 0.999, unless OpenVINO's own output moves more than
  that when the input moves by noise far below one quantization step (it
  does, on most inputs of these models: each rounding tie that lands on the
  other side in one layer moves values of the next across their rounding
  boundaries, and the flips multiply with depth).  Then gpu_int8 must stay
  within ``FLOOR_MARGIN`` of that floor.  For the record the test also prints
  OpenVINO against itself with its int8 kernels held to AVX-512 without VNNI
  (as on CPUs before Cascade Lake; where this CPU has VNNI).
"""

from __future__ import annotations

import re

import pytest

from tests.fixtures import (
    MODELS,
    NNCF_NAMES,
    FloatReference,
    agreement,
    float_ir,
    nncf_ir,
    ov_run,
    ov_run_without_vnni,
    ov_tensors,
    rounding_sensitivity,
    step_flips,
)

pytestmark = pytest.mark.slow

MIN_COSINE = 0.999
FLOOR_MARGIN = 0.005
N_INPUTS = 3
FIRST_LAYERS = 3  # activation FakeQuantizes compared one by one, the network input's included
MAX_FLIPS = 1e-3


@pytest.mark.parametrize("name", NNCF_NAMES)
def test_first_quantized_layers_match_openvino(name, real_inputs):
    xml = nncf_ir(name)
    reference = FloatReference(xml, MODELS[name].input_shape)
    graph = reference.graph
    fake_quantizes = [n for n in graph.nodes if n.op_type == "FakeQuantize"
                      and not graph.values[n.inputs[0]].is_const][:FIRST_LAYERS]
    assert len(fake_quantizes) == FIRST_LAYERS
    x = real_inputs(name, 1)[0]
    ours = reference.run_all(x)
    # gpu_int8's IR reader names a layer's output after the layer, as OpenVINO does
    theirs = ov_tensors(xml, x, [n.outputs[0] for n in fake_quantizes])
    for node in fake_quantizes:
        out = node.outputs[0]
        low, high = (graph.values[v].data for v in node.inputs[3:5])
        flips, worst = step_flips(ours[out], theirs[out], (high - low) / (node.attrs["levels"] - 1))
        print(f"\n{name} {out}: {flips:.2e} of {ours[out].size} values a step apart (at most {worst:.0f})", end="")
        assert flips <= MAX_FLIPS, f"{name} {out}: {flips:.2e} of the values differ by a quantization step"


@pytest.mark.parametrize("name", NNCF_NAMES)
def test_fakequantize_reference_matches_openvino(name, real_inputs):
    xml = nncf_ir(name)
    reference = FloatReference(xml, MODELS[name].input_shape)
    failures = []
    xs = real_inputs(name, N_INPUTS)
    other_isa = ov_run_without_vnni(xml, xs)  # for the record: OpenVINO against itself on older CPUs
    for i, x in enumerate(xs):
        expected, actual = ov_run(xml, x), reference.run(x)
        assert len(actual) == len(expected)
        result = agreement(actual[0], expected[0])
        floor = rounding_sensitivity(lambda v: ov_run(xml, v)[0], x, seed=i)
        print(f"\n{name} NNCF IR input {i}: {result}; OpenVINO vs itself under 1e-5 input noise: cos={floor:.6f}"
              + ("" if other_isa is None else
                 f"; without VNNI: cos={agreement(other_isa[i], expected[0]).cosine:.6f}"), end="")
        if result.cosine < min(MIN_COSINE, floor - FLOOR_MARGIN):
            failures.append(f"input {i}: cos {result.cosine:.6f} (OpenVINO's own floor {floor:.6f})")
    assert not failures, f"{name}: " + "; ".join(failures)


# -- the fixture itself, checked with OpenVINO alone ------------------------------------------

@pytest.mark.parametrize("name", NNCF_NAMES)
def test_nncf_fixture_is_int8(name, real_inputs):
    """The IR carries FakeQuantize on activations and i8 weights, and OpenVINO's int8 run of it
    stays near the float model."""
    text = nncf_ir(name).read_text()
    fake_quantize = len(re.findall(r'type="FakeQuantize"', text))
    i8_weights = len(re.findall(r'type="Const"[^>]*>\s*<data[^>]*element_type="i8"', text))
    x = real_inputs(name, 1)[0]
    result = agreement(ov_run(nncf_ir(name), x)[0], ov_run(float_ir(name), x)[0])
    print(f"\n{name}: {fake_quantize} FakeQuantize, {i8_weights} i8 weight constants; "
          f"OpenVINO int8 vs float: {result}", end="")
    assert fake_quantize >= 5 and i8_weights >= 5
    assert result.cosine >= 0.9
