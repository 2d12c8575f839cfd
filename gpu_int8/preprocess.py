"""Turn images into input tensors the way a config says (resize, color order, mean/scale, layout)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from gpu_int8.config import InputPreprocess
from gpu_int8.errors import GpuInt8Error


def load_image(path: str | Path) -> Image.Image:
    """Open an image file with Pillow; a clear error names a file that is not an image."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.copy()
    except FileNotFoundError:
        raise GpuInt8Error(f"input image {path} does not exist") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise GpuInt8Error(f"input {path} is not an image Pillow can read: {exc}") from None


def image_to_tensor(image: Image.Image | np.ndarray, shape: tuple, pre: InputPreprocess) -> np.ndarray:
    """A float32 tensor of ``shape`` (N=1) made from ``image`` per ``pre``.

    ``keep_ratio_pad`` scales the image to fit, keeps its aspect ratio and pads
    the right and bottom with zeros after normalization; ``fit_height_pad_right``
    is PaddleOCR's text-line rule: full height, width by aspect ratio but at
    most the input's width, zeros on the right.
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    if len(shape) != 4:
        raise GpuInt8Error(f"images feed 4-D inputs only; this input has shape {list(shape)}")
    if pre.layout == "NCHW":
        channels, height, width = shape[1], shape[2], shape[3]
    else:
        height, width, channels = shape[1], shape[2], shape[3]
    image = image.convert("L" if pre.color == "GRAY" else "RGB")
    if pre.resize == "stretch":
        image = image.resize((width, height), Image.Resampling.BILINEAR)
        fit_w, fit_h = width, height
    elif pre.resize == "keep_ratio_pad":
        ratio = min(width / image.width, height / image.height)
        fit_w, fit_h = max(1, round(image.width * ratio)), max(1, round(image.height * ratio))
        image = image.resize((fit_w, fit_h), Image.Resampling.BILINEAR)
    elif pre.resize == "fit_height_pad_right":
        fit_w, fit_h = min(width, math.ceil(height * image.width / image.height)), height
        image = image.resize((fit_w, fit_h), Image.Resampling.BILINEAR)
    else:
        fit_w, fit_h = image.width, image.height
        if (fit_w, fit_h) != (width, height):
            raise GpuInt8Error(f"image is {fit_w}x{fit_h} but the input needs {width}x{height} and "
                               f"resize is 'none'")
    pixels = np.asarray(image, dtype=np.float32)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pre.color == "BGR":
        pixels = pixels[:, :, ::-1]
    if pixels.shape[2] != channels:
        raise GpuInt8Error(f"input wants {channels} channels but color '{pre.color}' gives {pixels.shape[2]}")
    pixels = (pixels - np.asarray(pre.mean, np.float32)) / np.asarray(pre.scale, np.float32)
    canvas = np.zeros((height, width, channels), np.float32)
    canvas[:fit_h, :fit_w] = pixels
    tensor = canvas.transpose(2, 0, 1) if pre.layout == "NCHW" else canvas
    return np.ascontiguousarray(tensor[None])
