"""Image preprocessing: resize modes, color order, normalization, layout."""

import numpy as np
import pytest
from PIL import Image

from gpu_int8.config import InputPreprocess
from gpu_int8.errors import GpuInt8Error
from gpu_int8.preprocess import image_to_tensor, load_image


def test_stretch_bgr_normalize():
    rgb = np.zeros((10, 20, 3), np.uint8)
    rgb[..., 0] = 200  # red
    pre = InputPreprocess(color="BGR", mean=[100.0], scale=[2.0])
    t = image_to_tensor(rgb, (1, 3, 5, 10), pre)
    assert t.shape == (1, 3, 5, 10) and t.dtype == np.float32
    np.testing.assert_allclose(t[0, 2], 50.0)  # red lands last in BGR
    np.testing.assert_allclose(t[0, 0], -50.0)


def test_keep_ratio_pads_right():
    img = np.full((48, 96), 255, np.uint8)
    pre = InputPreprocess(color="GRAY", resize="keep_ratio_pad", mean=[127.5], scale=[127.5])
    t = image_to_tensor(img, (1, 1, 24, 96), pre)
    assert np.allclose(t[0, 0, :, :48], 1.0) and np.all(t[0, 0, :, 48:] == 0)


def test_nhwc_layout():
    t = image_to_tensor(np.zeros((4, 4, 3), np.uint8), (1, 4, 4, 3), InputPreprocess(layout="NHWC"))
    assert t.shape == (1, 4, 4, 3)


def test_errors(tmp_path):
    with pytest.raises(GpuInt8Error, match="does not exist"):
        load_image(tmp_path / "none.png")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a png")
    with pytest.raises(GpuInt8Error, match="not an image"):
        load_image(junk)
    with pytest.raises(GpuInt8Error, match="resize is 'none'"):
        image_to_tensor(np.zeros((4, 4, 3), np.uint8), (1, 3, 8, 8), InputPreprocess(resize="none"))
    with pytest.raises(GpuInt8Error, match="4-D"):
        image_to_tensor(np.zeros((4, 4, 3), np.uint8), (3, 8, 8), InputPreprocess())


def test_roundtrip_file(tmp_path):
    path = tmp_path / "a.png"
    Image.fromarray(np.full((8, 8, 3), 7, np.uint8)).save(path)
    t = image_to_tensor(load_image(path), (1, 3, 8, 8), InputPreprocess())
    assert np.all(t == 7)


def test_fit_height_pad_right_is_paddleocr_rule():
    # a 36x300 line into 48x192: full height, width min(192, ceil(48*300/36)=400) -> 192, no padding
    t = image_to_tensor(np.full((36, 300), 255, np.uint8), (1, 1, 48, 192),
                        InputPreprocess(color="GRAY", resize="fit_height_pad_right"))
    assert np.all(t == 255)
    # a short 36x60 word: width ceil(48*60/36)=80, then zeros
    t = image_to_tensor(np.full((36, 60), 255, np.uint8), (1, 1, 48, 192),
                        InputPreprocess(color="GRAY", resize="fit_height_pad_right"))
    assert np.all(t[..., :80] == 255) and np.all(t[..., 80:] == 0)
