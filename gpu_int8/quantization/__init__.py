"""The offline stage: a float model and calibration inputs -> a FakeQuantize model.

Steps (one file each): :mod:`activations` folds decomposed HSwish/Swish into one op,
:mod:`placement` picks the activations and weights to quantize, :mod:`ranges`
gathers their ranges on the float reference, :mod:`insert` adds FakeQuantize and
int8 weights, and :mod:`quantizer` writes the OpenVINO IR.
"""

from gpu_int8.quantization.quantizer import QuantizeReport, check_output, quantize, quantize_graph

__all__ = ["QuantizeReport", "check_output", "quantize", "quantize_graph"]
