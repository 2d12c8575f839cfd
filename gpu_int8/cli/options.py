"""Options several commands share: model, config, shape overrides."""

from __future__ import annotations

import argparse

from gpu_int8.errors import GpuInt8Error


def add_model_options(parser: argparse.ArgumentParser, model_required: bool = True) -> None:
    parser.add_argument("-m", "--model", required=model_required, help="model file: OpenVINO IR .xml or .onnx")
    parser.add_argument("-c", "--config", help="YAML config (default: configs/default.yaml's settings)")
    parser.add_argument("--shape", action="append", default=[], metavar="NAME=D0,D1,...",
                        help="fix the shape of an input the model leaves free, e.g. x=1,3,640,640")


def parse_shapes(items: list[str]) -> dict[str, tuple]:
    """``["x=1,3,640,640"]`` -> ``{"x": (1, 3, 640, 640)}``; a bad item is a clear error."""
    shapes = {}
    for item in items:
        name, sep, dims = item.partition("=")
        try:
            parsed = tuple(int(d) for d in dims.split(","))
        except ValueError:
            parsed = ()
        if not sep or not name or not parsed or any(d <= 0 for d in parsed):
            raise GpuInt8Error(f"--shape {item!r}: expected NAME=D0,D1,... with positive integers")
        shapes[name] = parsed
    return shapes
