"""Speed of gpu_int8 against OpenVINO's CPU int8 on the onnx wheel's light topologies.

    python benchmarks/bench_light.py [--models squeezenet shufflenet ...] [--device cpu] [--seconds 6]

Each light topology (real ImageNet architectures with fitted random weights, see
tests/fixtures/light_models.py) is quantized by gpu_int8 on four photos, and the int8
IR it writes runs on gpu_int8 and on OpenVINO CPU (int8 inside, batch 1, latency hint,
in a process of its own: benchmarks/openvino_process.py), alternating in rounds.  Prints
milliseconds, the ratio OpenVINO / gpu_int8 time (above 1: gpu_int8 is faster; the median
of the rounds' ratios, see benchmarks/bench_models.py) and its range over the rounds;
results also go to benchmarks/results/. Run it with nothing else on the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import gpu_int8  # noqa: E402
from gpu_int8.scheduler.devices import discover_devices  # noqa: E402

# before OpenVINO is imported: its libraries keep Intel's CPU OpenCL runtime from loading
discover_devices()

from benchmarks.bench_models import alternate, paired_ratio, save_results, time_calls  # noqa: E402
from benchmarks.openvino_process import OpenVINOProcess  # noqa: E402
from tests.fixtures.images import classifier_inputs  # noqa: E402
from tests.fixtures.light_models import LIGHT_NAMES, light_model  # noqa: E402


def bench_light(name: str, folder: Path, device: str, seconds: float, rounds: int) -> dict:
    from gpu_int8.api import load_graph

    photos = classifier_inputs(5)
    source = light_model(name)
    graph = load_graph(source)
    xml = folder / f"{name}_int8.xml"
    gpu_int8.quantize(source, [{graph.inputs[0]: x} for x in photos[:4]], xml)
    engine = gpu_int8.load(xml, {"device": device, "precision": "int8"})
    x = photos[4]
    feeds = {engine.inputs[0].name: x}
    engine.infer(feeds)
    with OpenVINOProcess(xml, [x]) as openvino:
        ov_ms, our_ms, round_ratios = alternate(openvino.time_calls,
                                                lambda s: time_calls(lambda: engine.infer(feeds), s),
                                                seconds, rounds)
    return {"model": name, "openvino_ms": round(ov_ms, 2), "gpu_int8_ms": round(our_ms, 2),
            **paired_ratio(ov_ms, our_ms, round_ratios), "device": str(engine.device)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(LIGHT_NAMES), choices=LIGHT_NAMES)
    parser.add_argument("--device", default="cpu", help="gpu_int8 device (auto, cpu, reference, a name filter)")
    parser.add_argument("--seconds", type=float, default=6.0, help="timed seconds per model and side")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gpu_int8_light_") as folder:
        rows = [bench_light(m, Path(folder), args.device, args.seconds, args.rounds) for m in args.models]
    print(f"\n{'model':14s} {'OpenVINO ms':>12s} {'gpu_int8 ms':>12s} {'ratio':>7s} {'rounds':>12s}")
    for r in rows:
        spread = f"{min(r['round_ratios']):.2f}-{max(r['round_ratios']):.2f}"
        print(f"{r['model']:14s} {r['openvino_ms']:12.2f} {r['gpu_int8_ms']:12.2f} {r['ratio']:7.3f} {spread:>12s}")
    print(f"device: {rows[0]['device']}")
    save_results("light", {"args": vars(args), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
