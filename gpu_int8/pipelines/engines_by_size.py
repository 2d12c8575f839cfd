"""One model at the input sizes a pipeline hands it: an engine per size, padded to a grid.

Pipelines resize each picture or text line to a size of its own; an engine is
compiled for one size.  Rounding the size up to a grid (and padding the input)
keeps the number of compiled engines small, and the most recently used are kept.
"""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np

from gpu_int8.api import load
from gpu_int8.config import Config, load_config
from gpu_int8.errors import GpuInt8Error
from gpu_int8.frontends import read_model
from gpu_int8.runtime.engine import Engine


class EnginesBySize:
    """Runs a one-input model at any input size, padding each trailing dimension up to
    a multiple of ``grid`` (one int per dimension, 1: exact) with ``fill``.

    ``run(x)`` returns the model's outputs for ``x`` at the padded size: the caller
    knows how the model's outputs follow its input and cuts them back.  A batch runs
    whole (one launch sequence for all its items), so its size is part of the key.
    """

    def __init__(self, model: str | os.PathLike, config: str | os.PathLike | dict | Config | None = None,
                 grid: tuple[int, ...] = (), fill: float = 0.0, keep: int = 6):
        self.model, self.config = model, load_config(config)
        self.grid, self.fill, self.keep = tuple(grid), fill, keep
        if not all(isinstance(g, int) and g >= 1 for g in self.grid) or keep < 1:
            raise GpuInt8Error(f"grid {list(self.grid)} must hold positive ints, keep ({keep}) at least 1")
        inputs = read_model(str(model)).inputs
        if len(inputs) != 1:
            raise GpuInt8Error(f"{model}: a pipeline stage takes one input, the model has {inputs}")
        self.input_name = inputs[0]
        self._engines: OrderedDict[tuple, Engine] = OrderedDict()
        self.loads = 0

    def padded_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """``shape`` with its trailing dimensions rounded up to the grid."""
        head = len(shape) - len(self.grid)
        if head < 1:
            raise GpuInt8Error(f"{self.model}: input of shape {list(shape)} has fewer dimensions than the "
                               f"grid {list(self.grid)} plus a batch")
        tail = [-(-d // g) * g for d, g in zip(shape[head:], self.grid)]
        return (*shape[:head], *tail)

    def engine(self, shape: tuple[int, ...]) -> Engine:
        """The engine for padded input ``shape``, loaded (and compiled) on first use."""
        engine = self._engines.pop(shape, None)
        if engine is None:
            engine = load(self.model, self.config, shapes={self.input_name: shape})
            self.loads += 1
        self._engines[shape] = engine
        while len(self._engines) > self.keep:
            _, old = self._engines.popitem(last=False)
            old.close()
        return engine

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """The model's outputs for batch ``x`` at its padded size."""
        x = np.asarray(x, np.float32)
        shape = self.padded_shape(tuple(x.shape))
        if shape != x.shape:
            padded = np.full(shape, self.fill, np.float32)
            padded[tuple(slice(0, d) for d in x.shape)] = x
            x = padded
        engine = self.engine(shape)
        outputs = engine.infer({self.input_name: x})
        return [outputs[spec.name] for spec in engine.outputs]

    @property
    def device(self):
        """What runs the most recently used engine (None before the first run)."""
        return next(reversed(self._engines.values())).device if self._engines else None

    def close(self) -> None:
        """Finish each engine's queued requests and drop them all."""
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()
