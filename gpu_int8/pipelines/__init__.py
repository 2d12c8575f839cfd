"""gpu_int8 engines inside vision pipelines.

``engines_by_size`` serves a model at whatever input size a pipeline hands it,
``rapidocr`` runs RapidOCR's whole OCR pipeline (detection, orientation, recognition)
on int8 engines, ``quantize_rapidocr`` makes those int8 models from the user's pages.
"""

from gpu_int8.pipelines.engines_by_size import EnginesBySize
from gpu_int8.pipelines.quantize_rapidocr import quantize_rapidocr, rapidocr_model
from gpu_int8.pipelines.rapidocr import int8_rapidocr

__all__ = ["EnginesBySize", "int8_rapidocr", "quantize_rapidocr", "rapidocr_model"]
