"""``benchmark``: latency and throughput of a model, with benchmark_app's main flags and reports.

Requests run one at a time (the engine serializes them), so this is latency mode:
throughput is 1 / mean latency.  -pc and -report_type average_counters add per-step
device times (OpenCL profiling), averaged over the timed iterations.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from gpu_int8.api import load
from gpu_int8.cli.benchmark_report import REPORT_FILES, StepAverages, write_reports
from gpu_int8.cli.hints import float_model_hint
from gpu_int8.cli.inputs import requests
from gpu_int8.cli.options import add_model_options, parse_shapes
from gpu_int8.config import load_config
from gpu_int8.errors import GpuInt8Error


def add_parser(sub) -> None:
    p = sub.add_parser("benchmark", help="measure latency and throughput (benchmark_app's main flags)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_options(p)
    p.add_argument("-i", "--input", action="append", default=[], metavar="[NAME=]FILE",
                   help="an image or .npy file to feed (default: seeded random data)")
    p.add_argument("-t", dest="seconds", type=float, help="time to run, in seconds (default 10 unless -niter)")
    p.add_argument("-niter", type=int, help="number of iterations")
    p.add_argument("-pc", action="store_true",
                   help="print per-step device times (also 'profiling: true' in the config)")
    p.add_argument("-report_type", choices=("no_counters", "average_counters"), help="write CSV reports")
    p.add_argument("-report_folder", default=".", help="where the reports go (existing ones are kept)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.niter is not None and args.niter < 1:
        raise GpuInt8Error(f"-niter {args.niter}: give at least 1")
    if args.seconds is not None and args.seconds <= 0:
        raise GpuInt8Error(f"-t {args.seconds}: give a positive time")
    folder = Path(args.report_folder)
    if args.report_type:
        taken = [folder / f for f in REPORT_FILES[args.report_type] if (folder / f).exists()]
        if taken:
            raise GpuInt8Error(f"{taken[0]} exists; choose another -report_folder")
    cfg = load_config(args.config)
    # per-step counters need a profiling queue; the latencies come from one without otherwise
    cfg.profiling = cfg.profiling or args.pc or args.report_type == "average_counters"
    start = time.perf_counter()
    engine = load(args.model, cfg, parse_shapes(args.shape))
    load_ms = (time.perf_counter() - start) * 1e3
    feeds = [f for _, f in requests(args.input, engine, cfg)]
    if len(feeds) != 1:
        raise GpuInt8Error("benchmark feeds one input set: give one -i FILE (or one NAME=FILE per input)")
    feeds = feeds[0]
    print(f"[ INFO ] Model: {args.model} (loaded in {load_ms:.0f} ms)")
    print(f"[ INFO ] Device: {engine.device}")
    hint = float_model_hint(engine, args.model)
    if hint:
        print(f"[ WARNING ] {hint}")
    start = time.perf_counter()
    engine.infer(feeds)
    print(f"[ INFO ] First inference took {(time.perf_counter() - start) * 1e3:.2f} ms")

    counting = cfg.profiling
    averages = StepAverages() if counting else None
    seconds = args.seconds if args.seconds is not None else (None if args.niter else 10.0)
    latencies, reading = [], 0.0  # reading: time spent collecting counters, not inferring
    begin = time.perf_counter()
    while (args.niter is None or len(latencies) < args.niter) and \
            (seconds is None or time.perf_counter() - begin - reading < seconds):
        t0 = time.perf_counter()
        engine.infer(feeds)
        t1 = time.perf_counter()
        latencies.append(t1 - t0)
        if averages is not None:
            averages.add(engine.profile())
            reading += time.perf_counter() - t1
    duration = time.perf_counter() - begin - reading
    stats = _statistics(latencies, duration)
    for line in _summary(stats):
        print(f"[ INFO ] {line}")
    if args.pc or cfg.profiling:
        print(averages.table() if averages.available else "[ INFO ] no per-step counters: the NumPy reference runs "
              "this model")
    if args.report_type:
        for path in write_reports(folder, args.report_type, vars(args), stats, averages):
            print(f"[ INFO ] report: {path}")
    return 0


def _statistics(latencies: list[float], duration: float) -> dict:
    ms = [t * 1e3 for t in latencies]
    return {"count": len(ms), "duration_ms": duration * 1e3, "median_ms": statistics.median(ms),
            "average_ms": statistics.fmean(ms), "min_ms": min(ms), "max_ms": max(ms),
            "throughput_fps": len(ms) / duration}


def _summary(stats: dict) -> list[str]:
    return [f"Count:            {stats['count']} iterations",
            f"Duration:         {stats['duration_ms']:.2f} ms",
            "Latency:",
            f"   Median:        {stats['median_ms']:.2f} ms",
            f"   Average:       {stats['average_ms']:.2f} ms",
            f"   Min:           {stats['min_ms']:.2f} ms",
            f"   Max:           {stats['max_ms']:.2f} ms",
            f"Throughput:       {stats['throughput_fps']:.2f} FPS"]
