"""What the folding passes share: replacing matched subgraphs, reading scalar constants."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gpu_int8.graph import Graph, Node


def replace_matches(graph: Graph, match: Callable[[Graph, dict, Node], Node | None]) -> int:
    """Put ``match(graph, producers, node)``'s node in the place of each node it matches (the
    last node of a pattern, keeping its outputs); drop what no longer feeds anything.
    Returns how many were replaced."""
    producer = graph.producers()
    replaced = 0
    for i, node in enumerate(graph.nodes):
        new = match(graph, producer, node)
        if new is not None:
            graph.nodes[i] = new
            replaced += 1
    if replaced:
        graph.remove_unused()
    return replaced


def scalar(graph: Graph, name: str) -> float | None:
    """The value of a one-element constant, else None."""
    value = graph.values.get(name)
    if value is None or not value.is_const or value.data.size != 1:
        return None
    return float(np.asarray(value.data).reshape(-1)[0])
