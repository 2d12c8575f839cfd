"""Throughput of the int8 GEMM kernels at ResNet-50-like shapes, on every OpenCL device.

    python benchmarks/kernel_gemm.py [--repeat 20] [--shapes 3136x576x64,49x4608x512]

Each shape M x K x N runs as a 1x1 convolution over M pixels (u8 activations x i8
weights, int32 accumulators as the output), for each kernel family the device runs -
the portable family as its float32-block kernel, its dot-product kernel and, where the
device runs it, its 512-bit VNNI kernel - and a few
tile / local-size variants.  Gop/s counts 2 ops per multiply-add
(2*M*K*N per run), from OpenCL profiling events: the best and the median of the
repeats (on a loaded machine the best is the better estimate of the kernel's speed).  Every
result is checked against an int64 NumPy reference before it is timed.  Other load on
the machine makes these numbers rough.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpu_int8.runtime.cl_backend import CLDevice  # noqa: E402
from gpu_int8.scheduler.conv_geometry import ConvGeometry  # noqa: E402
from gpu_int8.scheduler.conv_kernels import ConvKernel  # noqa: E402
from gpu_int8.scheduler.devices import discover_devices  # noqa: E402
from gpu_int8.scheduler.layouts import from_nchw, to_nchw  # noqa: E402
from gpu_int8.scheduler.vnni_probe import vnni_supported  # noqa: E402

DEFAULT_SHAPES = "3136x576x64,49x4608x512"


def variants(info, family):
    if family == "portable":
        vnni = [dict(variant="vnni"), dict(variant="vnni", tile=4)] if vnni_supported(info) else []
        return [dict(variant="float", tile=6), dict(variant="float", tile=4, local_size=(4, 4)),
                dict(variant="dot", tile=4), dict(variant="dot", tile=4, local_size=(1, 1)),
                dict(variant="dot", tile=4, local_size=(1, 8)), *vnni]
    sizes = [s for s in (8, 16) if s in info.subgroup_sizes]
    return [dict(subgroup_size=sg, tile=t) for sg in sizes for t in (4, 8)]


def run_one(dev, family, m, k, n, repeat, kw):
    geom = ConvGeometry.matmul(m, k, n)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (m, k, 1, 1)).astype(np.uint8)
    w = rng.integers(-128, 128, (n, k, 1, 1)).astype(np.int8)
    comp = np.zeros(n, np.int32)
    ones = np.ones(n, np.float32)
    kern = ConvKernel(dev, family, geom, w, comp, ones, 0 * ones, out="i32", **kw)
    alloc = dev.allocator
    xb = alloc.from_numpy(from_nchw(x, kern.layout))
    yb = alloc.alloc(int(np.prod(kern.output_shape())) * 4)
    kern(xb, yb, wait=True)  # first launch: PoCL compiles for this local size here
    y = to_nchw(alloc.to_numpy(yb, kern.output_shape(), np.int32), kern.layout, n)
    ref = np.einsum("mk,nk->mn", x[:, :, 0, 0].astype(np.int64), w[:, :, 0, 0].astype(np.int64))
    if not np.array_equal(y[:, :, 0, 0], ref):
        raise AssertionError(f"wrong result for {family} {kw}")
    times = [kern(xb, yb, wait=True).seconds() for _ in range(repeat)]
    ops = 2 * m * k * n
    return ops / min(times) / 1e9, ops / statistics.median(times) / 1e9, min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--shapes", default=DEFAULT_SHAPES, help="comma-separated MxKxN")
    ap.add_argument("--device", default="", help="substring of the device/platform name (default: all)")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    print(f"{'device':34} {'family':9} {'variant':34} {'shape':16} {'best':>7} {'median':>7} Gop/s {'best ms':>8}")
    for info in discover_devices():
        label = f"{info.name} [{info.platform_name}]"
        if args.device.lower() not in label.lower():
            continue
        dev = CLDevice(info)
        families = ["intel", "portable"] if info.supports_intel_family else ["portable"]
        for family in families:
            for m, k, n in shapes:
                for kw in variants(info, family):
                    t0 = time.perf_counter()
                    best, median, sec = run_one(dev, family, m, k, n, args.repeat, kw)
                    desc = " ".join(f"{a}={b}" for a, b in kw.items())
                    print(f"{label[:34]:34} {family:9} {desc:34} {f'{m}x{k}x{n}':16} {best:7.1f} {median:7.1f}"
                          f"       {sec * 1e3:8.3f}"
                          f"   (wall incl. build {time.perf_counter() - t0:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
