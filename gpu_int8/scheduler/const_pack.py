"""A kernel's constants packed into one buffer.

Intel's CPU runtime looks up every buffer argument of a launch when it is enqueued (a
dependency record, the buffer's device resource), and a plan enqueues all its launches
while the kernels run on the other core.  A convolution passed six constant buffers
(weights, compensation, scales, biases, the zero-point row, an epilogue's constants);
packed into one, the kernel finds each at a byte offset its program is built with.
"""

from __future__ import annotations

import numpy as np

#: byte alignment of each part: a cache line, and enough for the widest vector loads (int16)
PART_ALIGNMENT = 64


def pack_constants(parts: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, int]]:
    """The parts' bytes one after another, each at a multiple of :data:`PART_ALIGNMENT`, and
    each part's byte offset by name.  An empty part takes no bytes but gets an offset."""
    offsets, size = {}, 0
    for name, array in parts.items():
        offsets[name] = size
        size += -(-np.asarray(array).nbytes // PART_ALIGNMENT) * PART_ALIGNMENT
    packed = np.zeros(max(size, 1), np.uint8)
    for name, array in parts.items():
        raw = np.ascontiguousarray(array).view(np.uint8).reshape(-1)
        packed[offsets[name]:offsets[name] + raw.size] = raw
    return packed, offsets


def offset_macros(offsets: dict[str, int]) -> dict[str, int]:
    """The offsets as the instance macros a kernel reads them by: ``<name>_AT``."""
    return {f"{name}_AT": at for name, at in offsets.items()}
