"""Input files of the commands: .npy arrays and images, as a model input needs them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gpu_int8.errors import GpuInt8Error
from gpu_int8.preprocess import image_to_tensor, load_image

#: file suffixes read as images (anything else but .npy is refused by name)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm")


def read_input(path: Path, spec, cfg) -> np.ndarray:
    """One input tensor from a .npy file (shape checked) or an image (preprocessed per
    ``cfg`` for input ``spec``: anything with ``name``, ``shape`` and ``dtype``)."""
    if path.suffix == ".npy":
        if not path.is_file():
            raise GpuInt8Error(f"input file {path} does not exist")
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise GpuInt8Error(f"input file {path} is not a plain .npy array: {exc}") from None
        if tuple(array.shape) != tuple(spec.shape):
            raise GpuInt8Error(f"{path} holds shape {list(array.shape)}, input '{spec.name}' needs "
                               f"{list(spec.shape)}")
        return array.astype(spec.dtype)
    return image_to_tensor(load_image(path), spec.shape, cfg.preprocess_for(spec.name)).astype(spec.dtype)
