"""Quantize RapidOCR's three models on the user's own pages.

Each model must be calibrated on what it sees inside the pipeline: the detector on
pages resized by its preprocessing, the classifier and recognizer on text-line crops
cut from the detected boxes.  The float pipeline (RapidOCR on gpu_int8's NumPy float
reference) runs on each page and records what reaches each model; each model is then
quantized on its inputs, brought to one calibration size.  The written models keep
their shape computations, so they run at every size afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gpu_int8.errors import GpuInt8Error
from gpu_int8.pipelines.rapidocr import int8_rapidocr
from gpu_int8.quantization import QuantizeReport, quantize

#: RapidOCR's bundled float models
RAPIDOCR_MODELS = {"det": "ch_PP-OCRv4_det_infer.onnx", "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
                   "rec": "ch_PP-OCRv4_rec_infer.onnx"}


def rapidocr_model(stage: str) -> Path:
    """Path of RapidOCR's float ONNX model of ``stage`` (det, cls, rec), from its wheel."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the package rapidocr-onnxruntime is not installed; pip install gpu_int8 brings it")
    return Path(spec.submodule_search_locations[0]) / "models" / RAPIDOCR_MODELS[stage]


class _Recorder:
    """A stage session that keeps every input item it is handed."""

    def __init__(self, session):
        self.session, self.inputs = session, []

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        self.inputs.extend(np.array(x[i:i + 1]) for i in range(len(x)))
        return self.session(x)


def quantize_rapidocr(pages, folder: str | os.PathLike, rec_width: int = 320,
                      overwrite: bool = False, **quantize_options) -> dict[str, QuantizeReport]:
    """Quantize RapidOCR's detector, orientation classifier and recognizer on ``pages``
    (image paths or arrays, as RapidOCR takes them) into ``folder``/{det,cls,rec}_int8.xml,
    ready for :func:`~gpu_int8.pipelines.int8_rapidocr`.

    The detector is calibrated at the first page's detection size (other pages resized
    to it), the recognizer on lines padded or cut to ``rec_width``.  ``quantize_options``
    go to :func:`gpu_int8.quantize` (``ranges``, ``bias_correction``, ``ignored``).
    """
    from rapidocr_onnxruntime.utils.load_image import LoadImageError

    folder = Path(folder)
    outputs = {stage: folder / f"{stage}_int8.xml" for stage in RAPIDOCR_MODELS}
    if not overwrite:
        taken = [str(p) for p in outputs.values() if p.exists() or p.with_suffix(".bin").exists()]
        if taken:
            raise GpuInt8Error(f"{', '.join(taken)} exist; choose another folder or allow overwriting them")
    ocr = int8_rapidocr(*(rapidocr_model(s) for s in RAPIDOCR_MODELS), {"device": "reference", "precision": "fp32"},
                        rec_grid=1)
    det, cls, rec = _Recorder(ocr.text_det.infer), _Recorder(ocr.text_cls.infer), _Recorder(ocr.text_rec.session)
    ocr.text_det.infer, ocr.text_cls.infer, ocr.text_rec.session = det, cls, rec
    for i, page in enumerate(pages):
        try:
            ocr(page)
        except LoadImageError as exc:
            raise GpuInt8Error(f"calibration page {page if isinstance(page, (str, Path)) else i}: {exc}") from None
    if not det.inputs:
        raise GpuInt8Error("no pages to calibrate on")
    if not rec.inputs or not cls.inputs:
        raise GpuInt8Error(f"no text line found on the {len(det.inputs)} page(s): the classifier and the "
                           f"recognizer need lines to calibrate on")
    calibration = {"det": _resized(det.inputs, det.inputs[0].shape[2:]),
                   "cls": cls.inputs,
                   "rec": [_padded(x, rec_width) for x in rec.inputs]}
    return {stage: quantize(rapidocr_model(stage), [{"x": x} for x in inputs], outputs[stage],
                            shapes={"x": inputs[0].shape}, overwrite=overwrite, **quantize_options)
            for stage, inputs in calibration.items()}


def _resized(inputs: list[np.ndarray], size: tuple[int, int]) -> list[np.ndarray]:
    """Each (1, C, H, W) input at ``size`` (bilinear), as the detector's preprocessing resizes."""
    import cv2

    out = []
    for x in inputs:
        if x.shape[2:] != tuple(size):
            hwc = cv2.resize(x[0].transpose(1, 2, 0), (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
            x = hwc.transpose(2, 0, 1)[None]
        out.append(np.ascontiguousarray(x, np.float32))
    return out


def _padded(x: np.ndarray, width: int) -> np.ndarray:
    """A (1, C, H, W) line padded with zeros (RapidOCR's own padding) or cut to ``width``."""
    out = np.zeros(x.shape[:3] + (width,), np.float32)
    out[..., :min(width, x.shape[3])] = x[..., :width]
    return out
