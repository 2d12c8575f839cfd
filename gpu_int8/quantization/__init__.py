"""The offline stage: a float model and calibration inputs -> a FakeQuantize model.

Steps, one file each: :mod:`activations` folds written-out HSwish/Swish into one op,
:mod:`batch_norm` turns stray BatchNorms into an affine, :mod:`layer_norm` folds
written-out layer norms into MVN, :mod:`placement` picks the activations and weights
to quantize, :mod:`ranges` finds their ranges on the float reference,
:mod:`bias_correction` gives each layer's bias back the mean shift quantization
causes in its output, :mod:`insert` adds FakeQuantize and int8 weights, and
:mod:`quantizer` runs them and writes the OpenVINO IR (:mod:`patterns` holds what
the folding passes share).
"""

from gpu_int8.quantization.quantizer import QuantizeReport, check_output, quantize, quantize_graph

__all__ = ["QuantizeReport", "check_output", "quantize", "quantize_graph"]
