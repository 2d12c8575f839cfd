"""Errors a user can act on: each names the file, the node and the problem."""

from __future__ import annotations


class GpuInt8Error(Exception):
    """Base class of every error gpu_int8 raises on purpose."""


class ModelError(GpuInt8Error):
    """A model file that cannot be read or does not make sense."""

    def __init__(self, problem: str, *, file: str | None = None, node: str | None = None):
        self.problem, self.file, self.node = problem, file, node
        where = []
        if file:
            where.append(f"{file}")
        if node:
            where.append(f"node '{node}'")
        super().__init__(f"{': '.join(where)}: {problem}" if where else problem)


class UnsupportedOpError(ModelError):
    """An op type gpu_int8 has no definition for."""


class ConfigError(GpuInt8Error):
    """A bad configuration value; the message names the key."""
