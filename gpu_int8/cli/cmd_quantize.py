"""``quantize``: make an int8 (FakeQuantize) OpenVINO IR from a float model and calibration images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gpu_int8.cli.inputs import IMAGE_SUFFIXES, read_input
from gpu_int8.cli.options import add_model_options, parse_shapes
from gpu_int8.config import load_config
from gpu_int8.errors import GpuInt8Error
from gpu_int8.quantization import check_output, quantize_graph
from gpu_int8.quantization.quantizer import load_for_quantize
from gpu_int8.quantization.ranges import METHODS
from gpu_int8.runtime.engine import TensorSpec


def add_parser(sub) -> None:
    p = sub.add_parser("quantize", help="make an int8 FakeQuantize IR from a float model and calibration images",
                       description=__doc__)
    add_model_options(p)
    p.add_argument("-o", "--output", required=True, help="the quantized model to write: an .xml path (.bin beside)")
    p.add_argument("-i", "--input", action="append", default=[], metavar="FILE",
                   help="a calibration image or .npy file; repeat")
    p.add_argument("-d", "--calibration-dir", help="use every image / .npy file in this folder (sorted by name)")
    p.add_argument("--subset", type=int, default=300, help="use at most this many calibration inputs (default 300)")
    p.add_argument("--ranges", choices=METHODS, default="mse",
                   help="how activation ranges are chosen (default mse: least quantization error)")
    p.add_argument("--no-bias-correction", dest="bias_correction", action="store_false",
                   help="keep the float biases (by default each layer's bias absorbs the mean shift "
                        "quantization gives its output)")
    p.add_argument("--ignore", action="append", default=[], metavar="NODE",
                   help="keep this node float: no int8 weights, inputs unquantized (repeat for more)")
    p.add_argument("--overwrite", action="store_true", help="replace the output files if they exist")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_output(args.model, args.output, args.overwrite)
    if args.subset < 1:
        raise GpuInt8Error(f"--subset {args.subset}: give at least 1")
    files = _calibration_files(args.input, args.calibration_dir)[:args.subset]
    cfg = load_config(args.config)
    graph, original = load_for_quantize(args.model, cfg.input_shapes(parse_shapes(args.shape)))
    if len(graph.inputs) != 1:
        raise GpuInt8Error(f"the model has inputs {graph.inputs}; the command line calibrates single-input "
                           f"models (use gpu_int8.quantize() with feed dicts for others)")
    name = graph.inputs[0]
    spec = TensorSpec(name, graph.values[name].shape, graph.values[name].dtype)
    feeds = [{name: read_input(path, spec, cfg)} for path in files]
    print(f"model: {args.model}\ncalibration: {len(feeds)} inputs, ranges by {args.ranges}", flush=True)
    report = quantize_graph(graph, feeds, args.output, args.ranges, args.overwrite, progress=_progress_bar,
                            bias_correction=args.bias_correction, ignored=args.ignore,
                            original=original)
    print(report)
    print(f"run it:            python -m gpu_int8 infer -m {args.output}")
    print(f"its int8 steps:    python -m gpu_int8 inspect -m {args.output}")
    print(f"loss step by step: python -m gpu_int8 inspect -m {args.output} --compare --float-model {args.model} "
          f"-i IMAGE")
    return 0


def _calibration_files(items: list[str], folder: str | None) -> list[Path]:
    files = [Path(item) for item in items]
    if folder is not None:
        root = Path(folder)
        if not root.is_dir():
            raise GpuInt8Error(f"calibration folder {root} does not exist")
        found = sorted(p for p in root.iterdir()
                       if p.is_file() and p.suffix.lower() in (*IMAGE_SUFFIXES, ".npy"))
        if not found:
            raise GpuInt8Error(f"calibration folder {root} holds no image or .npy file")
        files += found
    if not files:
        raise GpuInt8Error("no calibration inputs: give -i FILE (repeat) or -d FOLDER")
    return files


def _progress_bar(items: list, label: str):
    from tqdm import tqdm

    return tqdm(items, desc=f"calibration ({label})", unit="input", file=sys.stderr,
                disable=not sys.stderr.isatty())
