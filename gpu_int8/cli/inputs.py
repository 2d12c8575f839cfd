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


def requests(items: list[str], engine, cfg):
    """(label, feeds) per inference request: one per -i FILE, one for NAME=FILE items of a
    multi-input model, seeded random data without items."""
    specs = {s.name: s for s in engine.inputs}
    if not items:
        rng = np.random.default_rng(0)
        feeds = {s.name: rng.standard_normal(s.shape).astype(s.dtype) if np.issubdtype(s.dtype, np.floating)
                 else rng.integers(0, 2, s.shape).astype(s.dtype) for s in engine.inputs}
        yield "random input (seed 0)", feeds
        return
    named = [item.partition("=") for item in items]
    if all(sep and name in specs for name, sep, _ in named) and len(specs) > 1:
        yield "inputs", {name: read_input(Path(path), specs[name], cfg) for name, _, path in named}
        return
    if len(specs) != 1:
        raise GpuInt8Error(f"the model has inputs {list(specs)}: give each as -i NAME=FILE")
    spec = next(iter(specs.values()))
    for item in items:
        name, sep, path = item.partition("=")
        if sep and name != spec.name:
            raise GpuInt8Error(f"-i {item}: the model has no input '{name}' (its input is '{spec.name}')")
        path = Path(path if sep else item)
        yield path.name, {spec.name: read_input(path, spec, cfg)}
