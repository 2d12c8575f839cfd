"""Model readers: OpenVINO IR (.xml + .bin) and ONNX (.onnx), each giving a Graph."""

from __future__ import annotations

import os

from gpu_int8.errors import ModelError
from gpu_int8.graph import Graph


def read_model(path: str | os.PathLike) -> Graph:
    """Read a model file into a Graph, choosing the reader by suffix (.onnx or .xml)."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".onnx":
        from gpu_int8.frontends.onnx_reader import read_onnx

        return read_onnx(path)
    if suffix == ".xml":
        from gpu_int8.frontends.ir_reader import read_ir

        return read_ir(path)
    raise ModelError(f"unknown model format '{suffix or '(no suffix)'}': expected .onnx or .xml (OpenVINO IR)",
                     file=path)


__all__ = ["read_model"]
