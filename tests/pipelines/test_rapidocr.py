"""RapidOCR's pipeline on gpu_int8 engines.

In fp32 on the NumPy reference the glue must be invisible: the same boxes and text as
RapidOCR on ONNX Runtime.  In int8 (slow suite) the three models are quantized by
gpu_int8 and read a printed page, upright and upside down, at least as well as
OpenVINO running the same int8 models in the same pipeline.
"""

from __future__ import annotations

import difflib

import numpy as np
import pytest
import skimage.data

from gpu_int8.pipelines import int8_rapidocr
from tests.fixtures import images
from tests.fixtures.ocr_models import quantize_ocr_models, source_path
from tests.fixtures.oracles import openvino_rapidocr

STAGES = ("ppocr_det", "ppocr_cls", "ppocr_rec")


def _float_rapidocr():
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def test_fp32_on_the_reference_gives_rapidocrs_own_result():
    page = np.ascontiguousarray(np.stack([skimage.data.page()] * 3, axis=-1))
    theirs, _ = _float_rapidocr()(page)
    # rec_grid 1: no padding beyond RapidOCR's own, which the recognizer's attention would see
    ours, _ = int8_rapidocr(*(source_path(s) for s in STAGES), {"device": "reference", "precision": "fp32"},
                            rec_grid=1)(page)
    assert [line[1] for line in ours] == [line[1] for line in theirs] and len(theirs) >= 4
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(mine[0], other[0], atol=1.0)  # box corners, pixels
        assert abs(mine[2] - other[2]) < 1e-3


def _similarity(result, lines) -> float:
    """Characters read right (spaces aside: PP-OCR's dictionary is Chinese and drops some)."""
    read = "".join(line[1] for line in result or []).replace(" ", "")
    return difflib.SequenceMatcher(None, "".join(lines).replace(" ", ""), read).ratio()


@pytest.fixture(scope="module")
def int8_models(tmp_path_factory):
    return quantize_ocr_models(tmp_path_factory.mktemp("ocr_int8"))


@pytest.mark.slow
def test_int8_reads_a_printed_page_as_well_as_openvino_int8(int8_models):
    ours = int8_rapidocr(*int8_models, {"device": "auto", "precision": "int8"})
    peer = openvino_rapidocr(*int8_models)
    upright = images.printed_page()
    for page, lines in ((upright, images.PAGE_TEXT), (upright[::-1, ::-1].copy(), images.PAGE_TEXT[::-1])):
        scores = [_similarity(ocr(page)[0], lines) for ocr in (ours, peer, _float_rapidocr())]
        print(f"\ncharacters read right: gpu_int8 int8 {scores[0]:.3f}, OpenVINO int8 {scores[1]:.3f}, "
              f"float (ONNX Runtime) {scores[2]:.3f}")
        assert scores[0] >= scores[1] - 0.02 and scores[0] >= 0.8


def test_quantize_rapidocr_refuses_what_it_cannot_calibrate_on(tmp_path):
    from gpu_int8.errors import GpuInt8Error
    from gpu_int8.pipelines import quantize_rapidocr

    with pytest.raises(GpuInt8Error, match="no pages to calibrate on"):
        quantize_rapidocr([], tmp_path)
    blank = np.full((120, 160, 3), 255, np.uint8)
    with pytest.raises(GpuInt8Error, match=r"no text line found on the 1 page\(s\)"):
        quantize_rapidocr([blank], tmp_path)
    (tmp_path / "rec_int8.xml").write_text("mine")
    with pytest.raises(GpuInt8Error, match="rec_int8.xml exist; choose another folder"):
        quantize_rapidocr([blank], tmp_path)
    assert (tmp_path / "rec_int8.xml").read_text() == "mine"
    assert not (tmp_path / "det_int8.xml").exists()


@pytest.mark.slow
def test_quantized_on_other_pages_it_reads_a_new_one(tmp_path):
    """The workflow a user follows: calibrate the three models on a few pages of their own
    (here scikit-image's scan and a printed page of other words), then read a new page."""
    from gpu_int8.pipelines import quantize_rapidocr

    pages = [np.ascontiguousarray(np.stack([skimage.data.page()] * 3, axis=-1)),
             images.printed_page(("Calibration uses other words than the test,", "printed in the same font at",
                                  "the same size, with digits 0123456789."))]
    reports = quantize_rapidocr(pages, tmp_path)
    assert reports["det"].samples == 2 and reports["rec"].samples >= 6
    ocr = int8_rapidocr(*(tmp_path / f"{s}_int8.xml" for s in ("det", "cls", "rec")),
                        {"device": "auto", "precision": "int8"})
    upright = images.printed_page()
    for page, lines in ((upright, images.PAGE_TEXT), (upright[::-1, ::-1].copy(), images.PAGE_TEXT[::-1])):
        ours, theirs = _similarity(ocr(page)[0], lines), _similarity(_float_rapidocr()(page)[0], lines)
        print(f"\ncharacters read right: gpu_int8 int8 {ours:.3f}, float (ONNX Runtime) {theirs:.3f}")
        assert ours >= theirs - 0.03
