"""Dispatches ``python -m gpu_int8 <command>`` to the command's module."""

from __future__ import annotations

import argparse
import importlib
import sys

from gpu_int8.errors import GpuInt8Error

# each module has add_parser(subparsers) and run(args) -> int
COMMANDS = ("cmd_infer", "cmd_benchmark", "cmd_inspect", "cmd_quantize", "cmd_ocr", "cmd_devices")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpu_int8", description="int8 inference of quantized vision models")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"gpu_int8.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; errors gpu_int8 understands print one clear line and exit 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except GpuInt8Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
