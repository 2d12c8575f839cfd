"""RapidOCR's OCR pipeline with its three models on gpu_int8 engines.

RapidOCR (the ``rapidocr-onnxruntime`` package) detects text lines (PP-OCRv4 det
and DB post-processing), turns upside-down lines (the orientation classifier) and
reads them (PP-OCRv4 rec and CTC decoding).  Its stages call a session object
``session(batch) -> [output]``; :func:`int8_rapidocr` puts gpu_int8 engines in
their place and keeps everything else of RapidOCR: its resizing, thresholds, box
geometry and character list.
"""

from __future__ import annotations

import os

import numpy as np

from gpu_int8.config import Config
from gpu_int8.pipelines.engines_by_size import EnginesBySize

#: RapidOCR sizes detection inputs in multiples of 32: each page size gets its own
#: engine.  A coarser grid pads pages to fewer sizes, but PP-OCRv4 det's squeeze-excite
#: blocks average over the padding too, which moves its text map (on scikit-image's page
#: a grid of 128 loses a line even in float)
DET_GRID = 32
#: text-line widths are padded to multiples of this (RapidOCR pads a batch's lines to
#: its widest the same way); the recognizer's output steps are cut back to the width
REC_GRID = 160


class _DetSession:
    """det: (N, 3, H, W) -> [(N, 1, H, W) text probability map]."""

    def __init__(self, engines: EnginesBySize):
        self.engines = engines

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        height, width = x.shape[2:]
        return [self.engines.run(x)[0][:, :, :height, :width]]


class _RecSession:
    """rec: (N, 3, 48, W) -> [(N, W/8, classes) character probabilities per step]."""

    def __init__(self, engines: EnginesBySize):
        self.engines = engines

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        probs = self.engines.run(x)[0]
        padded_width = self.engines.padded_shape(x[:1].shape)[-1]
        steps = probs.shape[1] * x.shape[-1] // padded_width
        return [probs[:, :steps]]


class _ClsSession:
    """cls: (N, 3, 48, 192) -> [(N, 2) orientation probabilities]."""

    def __init__(self, engines: EnginesBySize):
        self.engines = engines

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        return self.engines.run(x)


def int8_rapidocr(det: str | os.PathLike, cls: str | os.PathLike, rec: str | os.PathLike,
                  config: str | os.PathLike | dict | Config | None = None, det_grid: int = DET_GRID,
                  rec_grid: int = REC_GRID, **rapidocr_options):
    """A ``rapidocr_onnxruntime.RapidOCR`` whose detector, orientation classifier and
    recognizer run on gpu_int8 engines of the given models (typically the int8 IR
    ``python -m gpu_int8 quantize`` writes from RapidOCR's own ONNX files).

    ``config`` is gpu_int8's (device, precision, cache folder); ``rapidocr_options``
    go to RapidOCR (``text_score``, ``det_box_thresh``, ...).  Call the result on an
    image path or array: ``result, elapse = ocr("page.png")``, ``result`` a list of
    ``[box, text, score]``.  Detection sizes are padded to multiples of ``det_grid``,
    line widths to multiples of ``rec_grid``; each new size compiles an engine once (the
    program cache keeps its kernels across runs).
    """
    from rapidocr_onnxruntime import RapidOCR

    stages = {"det": EnginesBySize(det, config, grid=(det_grid, det_grid)),
              "cls": EnginesBySize(cls, config),
              "rec": EnginesBySize(rec, config, grid=(1, rec_grid))}
    # RapidOCR opens ONNX Runtime sessions of its bundled float models here; they are
    # replaced before anything runs on them
    ocr = RapidOCR(**rapidocr_options)
    ocr.text_det.infer = _DetSession(stages["det"])
    ocr.text_cls.infer = _ClsSession(stages["cls"])
    ocr.text_rec.session = _RecSession(stages["rec"])
    ocr.gpu_int8_engines = stages
    return ocr
