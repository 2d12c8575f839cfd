"""The embedded default of ``python -m gpu_int8 infer``: a real model on a real image.

PP-OCR's text orientation classifier (trained weights, shipped in the
rapidocr-onnxruntime wheel) is quantized to int8 on crops of the lower text lines
of scikit-image's scanned ``page``, then judges the page's title line, which the
calibration did not see, once upright and once turned 180 degrees. A person can
check the answer: the first is upright (0), the second upside down (180).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CLS_LABELS = ("0", "180")
CLS_SHAPE = (1, 3, 48, 192)
#: PaddleOCR's preprocessing: BGR, full height, width by aspect ratio, pad right, pixels to [-1, 1]
CLS_CONFIG = {
    "device": "auto",
    "precision": "int8",
    "shapes": {"x": list(CLS_SHAPE)},
    "inputs": {"x": {"color": "BGR", "resize": "fit_height_pad_right", "mean": 127.5, "scale": 127.5}},
}


def cls_model_path() -> Path:
    """The PP-OCR mobile v2.0 orientation classifier from the rapidocr-onnxruntime wheel."""
    from gpu_int8.pipelines import rapidocr_model

    return rapidocr_model("cls")


def text_line_images() -> dict[str, np.ndarray]:
    """The title line of skimage's scanned ``page``, upright and rotated by 180 degrees."""
    from skimage import data

    line = data.page()[2:38, 0:300]  # "Region-based segmentation"
    return {"upright text line": line, "same line rotated 180": np.ascontiguousarray(np.rot90(line, 2))}


def calibration_crops() -> list[np.ndarray]:
    """Strips of the page below its title line, upright and rotated by 180 degrees: 16 crops
    the demo calibrates on (the title line stays unseen)."""
    from skimage import data

    page = data.page()
    strips = [page[y:y + 36, x:x + 300] for y in range(44, 150, 15) for x in (0, 84)][:8]
    return strips + [np.ascontiguousarray(np.rot90(s, 2)) for s in strips]
