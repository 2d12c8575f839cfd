"""Speed of gpu_int8 against OpenVINO's CPU int8 on the same NNCF IR, in one run.

    python benchmarks/bench_models.py [--models resnet50 ppocr_det ppocr_rec ppocr_cls] [--device cpu] [--seconds 10]

For each model: OpenVINO (CPU plugin, int8 inside, batch 1, latency hint, all
cores; in a process of its own, see benchmarks/openvino_process.py) and gpu_int8
(the configured device) run the same FakeQuantize IR, alternating in rounds so
machine noise hits both alike. It prints FPS of
each, the ratio OpenVINO / gpu_int8 time (above 1: gpu_int8 is faster; the median of
the rounds' ratios, :func:`paired_ratio`) and its range over the rounds (how far machine
noise moves it), and
gpu_int8's cold load (empty program cache) and warm load (cache filled) times. Results also go to
benchmarks/results/<date>.json. Run it with nothing else on the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import gpu_int8  # noqa: E402
from gpu_int8.scheduler.devices import discover_devices  # noqa: E402

# before OpenVINO is imported: its libraries keep Intel's CPU OpenCL runtime from loading
discover_devices()

from benchmarks.openvino_process import OpenVINOProcess  # noqa: E402
from tests import fixtures  # noqa: E402  (builds and caches the NNCF IR)


def time_calls(fn, seconds: float, min_calls: int = 5) -> list[float]:
    """Per-call wall times (s) of ``fn`` for about ``seconds``."""
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < min_calls:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def alternate(time_openvino, time_ours, seconds: float, rounds: int) -> tuple[float, float, list[float]]:
    """Median ms of the calls ``time_openvino(s)`` and ``time_ours(s)`` time (each returns per-call
    times over about s seconds), run in alternating rounds so drifting machine load hits both,
    and each round's ratio of the two medians (OpenVINO / ours)."""
    ov_times, our_times, round_ratios = [], [], []
    for _ in range(rounds):
        ov_round = time_openvino(seconds / rounds)
        our_round = time_ours(seconds / rounds)
        ov_times += ov_round
        our_times += our_round
        round_ratios.append(round(statistics.median(ov_round) / statistics.median(our_round), 3))
    return statistics.median(ov_times) * 1e3, statistics.median(our_times) * 1e3, round_ratios


def paired_ratio(ov_ms: float, our_ms: float, round_ratios: list[float]) -> dict:
    """The ratio a result reports: the median of the rounds' ratios, each of two medians timed
    minutes apart at most.  The ratio of the medians over all calls (``pooled_ratio``, kept
    too) mixes rounds, and where the machine's speed changes between rounds it lands far
    from every round's (ShuffleNet once: 0.65, rounds 0.98, 0.99, 0.62, 1.07, 1.06, 1.09)."""
    return {"ratio": round(statistics.median(round_ratios), 3), "pooled_ratio": round(ov_ms / our_ms, 3),
            "round_ratios": round_ratios}


def bench_model(name: str, device: str, kernels: str, seconds: float, rounds: int) -> dict:
    xml = fixtures.nncf_ir(name)
    x = fixtures.real_inputs(name, 1)[0]
    cache = Path(tempfile.mkdtemp(prefix="gpu_int8_bench_"))
    config = {"device": device, "kernels": kernels, "precision": "int8", "cache_dir": str(cache)}
    t0 = time.perf_counter()
    engine = gpu_int8.load(xml, config)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = gpu_int8.load(xml, config)
    warm = time.perf_counter() - t0
    feeds = {engine.inputs[0].name: x}
    engine.infer(feeds)  # first runs compile lazily on some runtimes
    with OpenVINOProcess(xml, [x]) as openvino:
        ov_ms, our_ms, round_ratios = alternate(openvino.time_calls,
                                                lambda s: time_calls(lambda: engine.infer(feeds), s),
                                                seconds, rounds)
    return {
        "model": name, "device": str(engine.device),
        "openvino_ms": round(ov_ms, 2), "gpu_int8_ms": round(our_ms, 2),
        "openvino_fps": round(1e3 / ov_ms, 2), "gpu_int8_fps": round(1e3 / our_ms, 2),
        **paired_ratio(ov_ms, our_ms, round_ratios),
        "cold_load_s": round(cold, 2), "warm_load_s": round(warm, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(fixtures.NNCF_NAMES), choices=fixtures.NNCF_NAMES)
    parser.add_argument("--device", default="cpu", help="gpu_int8 device (auto, cpu, reference, a name filter)")
    parser.add_argument("--kernels", default="auto", choices=["auto", "intel", "portable"])
    parser.add_argument("--seconds", type=float, default=20.0, help="timed seconds per model and side")
    parser.add_argument("--rounds", type=int, default=8, help="alternations; the ratio of each is printed as a range")
    args = parser.parse_args()
    rows = [bench_model(m, args.device, args.kernels, args.seconds, args.rounds) for m in args.models]
    print(f"\n{'model':12s} {'OpenVINO ms':>12s} {'gpu_int8 ms':>12s} {'ratio':>7s} {'rounds':>12s} "
          f"{'cold load s':>12s} {'warm load s':>12s}")
    for r in rows:
        spread = f"{min(r['round_ratios']):.2f}-{max(r['round_ratios']):.2f}"
        print(f"{r['model']:12s} {r['openvino_ms']:12.2f} {r['gpu_int8_ms']:12.2f} {r['ratio']:7.3f} {spread:>12s} "
              f"{r['cold_load_s']:12.2f} {r['warm_load_s']:12.2f}")
    print(f"device: {rows[0]['device']}")
    save_results("models", {"args": vars(args), "numpy": np.__version__, "rows": rows})
    return 0


def save_results(kind: str, payload: dict) -> None:
    """Write ``payload`` to benchmarks/results/<kind>-<date>.json and say where."""
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    path = out / time.strftime(f"{kind}-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(payload, indent=2))
    print(f"saved {path.relative_to(REPO)}")


if __name__ == "__main__":
    sys.exit(main())
