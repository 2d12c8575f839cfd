"""A value (tensor) of the graph: a name, a static shape, a dtype, maybe constant data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Value:
    """One tensor of the graph.

    ``shape`` is a tuple of ints once shapes are inferred; before that a
    dimension may be ``None`` (dynamic, to be fixed by a shape override).
    ``data`` holds the array of a constant.
    """

    name: str
    shape: tuple | None = None
    dtype: np.dtype | None = None
    data: np.ndarray | None = None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def is_static(self) -> bool:
        return self.shape is not None and all(isinstance(d, int) and d >= 0 for d in self.shape)

    def __repr__(self) -> str:
        kind = "const " if self.is_const else ""
        dt = np.dtype(self.dtype).name if self.dtype is not None else "?"
        return f"<{kind}{self.name} {dt}{list(self.shape) if self.shape is not None else '[?]'}>"
