"""Speed of a whole OCR pipeline: RapidOCR on gpu_int8 against RapidOCR on OpenVINO's CPU int8.

    python benchmarks/bench_ocr.py [--device cpu] [--seconds 10]

PP-OCR det, cls and rec are quantized by gpu_int8 (as in the tests), and the same
three int8 IRs run inside the same RapidOCR pipeline (its resizing, DB
post-processing, line crops, CTC decoding) on gpu_int8 and on OpenVINO CPU,
alternating in rounds on a printed page, upright and upside down. RapidOCR as
shipped (float models, ONNX Runtime) runs beside them for reference. Prints
milliseconds per page and the ratio OpenVINO / gpu_int8 (above 1: gpu_int8 is
faster; the median of the rounds' ratios) with its range over the rounds, then each
pipeline's detection, orientation and recognition times as RapidOCR measures them;
results also go to benchmarks/results/. Run it with nothing else on the machine.  The
pipelines share one process, and with it oneTBB's worker threads, which costs gpu_int8 time
after OpenVINO's turns (see benchmarks/openvino_process.py): its ratio here is a lower bound.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gpu_int8.scheduler.devices import discover_devices  # noqa: E402

# before OpenVINO is imported: its libraries keep Intel's CPU OpenCL runtime from loading
discover_devices()

from benchmarks.bench_models import save_results, time_calls  # noqa: E402
from gpu_int8.pipelines import int8_rapidocr  # noqa: E402
from tests.fixtures.images import printed_page  # noqa: E402
from tests.fixtures.ocr_models import quantize_ocr_models  # noqa: E402
from tests.fixtures.oracles import openvino_rapidocr  # noqa: E402


def main() -> int:
    from rapidocr_onnxruntime import RapidOCR

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="gpu_int8 device (auto, cpu, reference, a name filter)")
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per pipeline and page")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    models = quantize_ocr_models(Path(tempfile.mkdtemp(prefix="gpu_int8_ocr_")))
    pipelines = {"gpu_int8": int8_rapidocr(*models, {"device": args.device, "precision": "int8"}),
                 "openvino": openvino_rapidocr(*models), "float_onnxruntime": RapidOCR()}
    upright = printed_page()
    rows = []
    for label, page in (("upright", upright), ("upside down", np.ascontiguousarray(upright[::-1, ::-1]))):
        for ocr in pipelines.values():
            ocr(page)  # compiles each size the page needs
        times: dict[str, list[float]] = {name: [] for name in pipelines}
        stages: dict[str, list] = {name: [] for name in pipelines}  # RapidOCR's own det, cls, rec seconds
        round_ratios = []
        for _ in range(args.rounds):  # alternate so drifting machine load hits all alike
            medians = {}
            for name, ocr in pipelines.items():
                call = functools.partial(_read_page, ocr, page, stages[name])
                this_round = time_calls(call, args.seconds / args.rounds)
                times[name] += this_round
                medians[name] = statistics.median(this_round)
            round_ratios.append(round(medians["openvino"] / medians["gpu_int8"], 3))
        ms = {name: round(statistics.median(t) * 1e3, 2) for name, t in times.items()}
        stage_ms = {name: [round(statistics.median(s[i] for s in st) * 1e3, 2) for i in range(3)]
                    for name, st in stages.items()}
        rows.append({"page": label, **{f"{name}_ms": v for name, v in ms.items()},
                     **{f"{name}_det_cls_rec_ms": v for name, v in stage_ms.items()},
                     "ratio_vs_openvino": round(statistics.median(round_ratios), 3),
                     "pooled_ratio_vs_openvino": round(ms["openvino"] / ms["gpu_int8"], 3),
                     "round_ratios": round_ratios,
                     "lines": len(pipelines["gpu_int8"](page)[0] or [])})
    device = pipelines["gpu_int8"].gpu_int8_engines["det"].device
    print(f"\n{'page':12s} {'gpu_int8 ms':>12s} {'OpenVINO ms':>12s} {'ratio':>7s} {'rounds':>12s} "
          f"{'float ORT ms':>13s}")
    for r in rows:
        spread = f"{min(r['round_ratios']):.2f}-{max(r['round_ratios']):.2f}"
        print(f"{r['page']:12s} {r['gpu_int8_ms']:12.1f} {r['openvino_ms']:12.1f} {r['ratio_vs_openvino']:7.3f} "
              f"{spread:>12s} {r['float_onnxruntime_ms']:13.1f}")
    for r in rows:
        mine, theirs = r["gpu_int8_det_cls_rec_ms"], r["openvino_det_cls_rec_ms"]
        print(f"{r['page']:12s} stages det / cls / rec: gpu_int8 {' / '.join(f'{v:.1f}' for v in mine)} ms, "
              f"OpenVINO {' / '.join(f'{v:.1f}' for v in theirs)} ms")
    print(f"device: {device}")
    save_results("ocr", {"args": vars(args), "device": str(device), "rows": rows})
    return 0


def _read_page(ocr, page, stages: list) -> None:
    """One pipeline call; keeps RapidOCR's per-stage seconds (detection, orientation, recognition)."""
    _, elapse = ocr(page)
    stages.append([float(v) for v in elapse])


if __name__ == "__main__":
    sys.exit(main())
