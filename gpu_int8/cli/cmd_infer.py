"""``infer``: run a model on images, .npy files or random data and summarize the outputs."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from gpu_int8 import demo
from gpu_int8.api import load
from gpu_int8.cli.hints import float_model_hint
from gpu_int8.cli.inputs import requests
from gpu_int8.cli.options import add_model_options, parse_shapes
from gpu_int8.config import load_config
from gpu_int8.errors import GpuInt8Error
from gpu_int8.preprocess import image_to_tensor


def add_parser(sub) -> None:
    p = sub.add_parser("infer", help="run a model (no arguments: the embedded PP-OCR orientation demo)",
                       description=__doc__)
    add_model_options(p, model_required=False)
    p.add_argument("-i", "--input", action="append", default=[], metavar="[NAME=]FILE",
                   help="an image or .npy file; repeat for several inferences; NAME= for multi-input models. "
                        "Without -i, seeded random data is used")
    p.add_argument("-o", "--output-dir", help="save every output as <input>_<output>.npy here (never overwrites)")
    p.add_argument("--top-k", type=int, default=5, help="classes to show for a classifier output")
    p.add_argument("--profile", action="store_true",
                   help="print per-step timings (kernel, precision, device time) after each inference "
                        "(also 'profiling: true' in the config)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.model is None:
        if args.input or args.config or args.shape:
            raise GpuInt8Error("-i/-c/--shape need -m MODEL (without -m the embedded demo runs)")
        return _run_demo(args)
    cfg = load_config(args.config)
    cfg.profiling = cfg.profiling or args.profile
    start = time.perf_counter()
    engine = load(args.model, cfg, parse_shapes(args.shape))
    load_s = time.perf_counter() - start
    print(f"model:  {args.model}  (loaded in {load_s:.2f} s)")
    print(f"device: {engine.device}")
    hint = float_model_hint(engine, args.model)
    if hint:
        print(hint)
    for request_name, feeds in requests(args.input, engine, cfg):
        start = time.perf_counter()
        outputs = engine.infer(feeds)
        ms = (time.perf_counter() - start) * 1e3
        print(f"\n{request_name}: inference {ms:.1f} ms")
        for name, array in outputs.items():
            print(f"  {name}: {summarize(array, args.top_k)}")
        if args.profile or cfg.profiling:
            _print_profile(engine)
        if args.output_dir:
            _save(Path(args.output_dir), request_name, outputs)
    return 0


def _print_profile(engine) -> None:
    steps = engine.profile()
    if steps is None:
        print("  profile: not available (the NumPy reference executor runs this model)")
        return
    total = sum(s.seconds for s in steps)
    print(f"  profile: {len(steps)} steps, {total * 1e3:.2f} ms "
          f"(OpenCL device time; 'host' steps run NumPy between kernels)")
    print(f"  {'step':40s} {'kind':11s} {'prec':4s} {'where':6s} {'time':>11s}  kernel")
    for s in steps:
        print("  " + s.line())


def summarize(array: np.ndarray, top_k: int = 5) -> str:
    """Top-k for a classifier-like output [1, N]; shape and statistics otherwise."""
    shape = list(array.shape)
    flat = array.reshape(-1)
    if array.ndim >= 1 and flat.size == array.shape[-1] and 2 <= flat.size <= 100000 \
            and np.issubdtype(array.dtype, np.floating):
        probs = flat if _is_distribution(flat) else _softmax(flat)
        order = np.argsort(-probs)[:top_k]
        top = ", ".join(f"class {i} ({probs[i]:.3f})" for i in order)
        return f"{array.dtype}{shape} top-{len(order)}: {top}"
    if flat.size == 0:
        return f"{array.dtype}{shape} (empty)"
    return (f"{array.dtype}{shape} min {flat.min():.4g} max {flat.max():.4g} "
            f"mean {flat.astype(np.float64).mean():.4g}")


def _is_distribution(x: np.ndarray) -> bool:
    return bool(np.all(x >= 0) and abs(float(x.sum()) - 1.0) < 1e-3)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x.astype(np.float64) - x.max())
    return e / e.sum()


def _save(outdir: Path, request_name: str, outputs: dict[str, np.ndarray]) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    stem = Path(request_name).stem.replace(" ", "_")
    for name, array in outputs.items():
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        path = outdir / f"{stem}_{safe}.npy"
        if path.exists():
            raise GpuInt8Error(f"{path} exists already; choose another --output-dir (nothing is overwritten)")
        np.save(path, array, allow_pickle=False)
        print(f"  saved {path}")


def _run_demo(args: argparse.Namespace) -> int:
    from gpu_int8.quantization import quantize

    model = demo.cls_model_path()
    print("No model given: the embedded demo quantizes PP-OCR's text orientation classifier (trained weights")
    print("from the rapidocr-onnxruntime package) to int8 on text lines of scikit-image's scanned page, then")
    print("runs it in int8 on a line the calibration did not see.\n")
    cfg = load_config(demo.CLS_CONFIG)
    reference = load(model, {**demo.CLS_CONFIG, "precision": "fp32", "device": "reference"})
    spec = reference.inputs[0]
    preprocess = cfg.preprocess_for(spec.name)
    crops = [{spec.name: image_to_tensor(c, spec.shape, preprocess)} for c in demo.calibration_crops()]
    with tempfile.TemporaryDirectory(prefix="gpu_int8_demo_") as folder:
        start = time.perf_counter()
        report = quantize(model, crops, Path(folder) / "cls_int8.xml", shapes={spec.name: spec.shape})
        quantized = time.perf_counter() - start
        start = time.perf_counter()
        engine = load(report.output, demo.CLS_CONFIG)
    loaded = time.perf_counter() - start
    print(f"model:     {model.name}")
    print(f"quantized: on {report.samples} crops in {quantized:.1f} s; {engine.schedule.summary().line()}")
    print(f"device:    {engine.device}")
    print(f"           (ready in {loaded:.1f} s; compiled kernels are cached for the next run)\n")
    for label, image in demo.text_line_images().items():
        tensor = image_to_tensor(image, spec.shape, preprocess)
        start = time.perf_counter()
        probs = next(iter(engine.infer({spec.name: tensor}).values())).reshape(-1)
        ms = (time.perf_counter() - start) * 1e3
        float_probs = next(iter(reference.infer({spec.name: tensor}).values())).reshape(-1)
        best = int(np.argmax(probs))
        print(f"{label:24s} -> orientation {demo.CLS_LABELS[best]:>3s} degrees (int8 score {probs[best]:.3f}, "
              f"float model {float_probs[best]:.3f}; {ms:.1f} ms)")
    return 0
