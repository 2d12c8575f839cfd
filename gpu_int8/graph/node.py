"""A node of the graph: an op type, its attributes, input and output value names."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Node:
    """One operation. ``inputs`` may hold ``""`` for an absent optional input."""

    op_type: str
    name: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"{self.op_type}('{self.name}': {self.inputs} -> {self.outputs})"
