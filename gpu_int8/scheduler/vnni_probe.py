"""Whether a device runs the 512-bit VNNI kernel (``cl_kernels/conv_gemm_vnni.cl``).

That kernel reaches the x86 instruction through an LLVM intrinsic (``cl_kernels/vnni.cl``),
which only Intel's CPU runtime on a CPU with AVX-512 VNNI compiles.  Anywhere else its
compiler aborts the process instead of reporting a failed build, so the first build runs
in a child process (``python -m gpu_int8.scheduler.vnni_probe``) that builds the
instruction, runs it and compares the result with NumPy.  The answer is kept per device
and driver, in memory and next to the program binaries.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

#: run after cl_kernels/vnni.cl: y = acc + a . w on 16 lanes (VNNI), y8 the same on the low 8 (VNNI8)
PROBE_KERNEL = """
__attribute__((intel_reqd_sub_group_size(1)))
__kernel void probe(__global const int16 *a, __global const int16 *w, __global int16 *y, __global int8 *y8)
{
    const int i = get_global_id(0);
    y[i] = VNNI(a[2 * i + 1], a[2 * i], w[i]);
    y8[i] = VNNI8(a[2 * i + 1].lo, a[2 * i].lo, w[i].lo);
}
"""
#: names the marker files: a new probe does not trust an older one's answer
PROBE_VERSION = 2
PROBE_TIMEOUT_S = 120
_answers: dict[str, bool] = {}


def cpu_has_vnni(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this machine's CPU reports AVX-512 VNNI (Linux)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return {"avx512_vnni", "avx512bw", "avx512vl", "avx512f"} <= set(flags)


def vnni_supported(info, cache_dir: Path | None = None) -> bool:
    """Whether ``info`` (a DeviceInfo) builds and runs the VNNI kernel correctly; probes once per
    device and driver (the answer is stored in ``cache_dir`` when given)."""
    if info.is_gpu or not info.is_intel_cpu_runtime or not cpu_has_vnni():
        return False
    key = hashlib.sha256("\0".join([info.name, info.driver_version, info.platform_version]).encode()).hexdigest()[:16]
    if key in _answers:
        return _answers[key]
    marker = Path(cache_dir) / f"vnni-probe{PROBE_VERSION}-{key}" if cache_dir else None
    if marker is not None and marker.is_file():
        answer = marker.read_text().strip() == "ok"
    else:
        answer = _probe_in_child(info)
        if marker is not None:
            try:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.write_text("ok\n" if answer else "no\n")
            except OSError:
                pass  # a read-only cache: probe again next time
    _answers[key] = answer
    return answer


def _probe_in_child(info) -> bool:
    cmd = [sys.executable, "-m", "gpu_int8.scheduler.vnni_probe", info.platform_name, info.name]
    env = dict(os.environ)  # the child imports this very package, wherever it was imported from
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip().endswith("vnni ok")


def probe(platform_name: str, device_name: str) -> bool:
    """Build and run vpdpbusd on the named device in this process (may abort it)."""
    import pyopencl as cl

    from .devices import discover_devices
    from .program_cache import kernel_source

    found = [d for d in discover_devices() if d.platform_name == platform_name and d.name == device_name]
    if not found:
        return False
    ctx = cl.Context([found[0].cl_device])
    queue = cl.CommandQueue(ctx)
    source = kernel_source("vnni.cl") + PROBE_KERNEL
    kernel = cl.Program(ctx, source).build(options=found[0].cl_std_option).probe
    rng = np.random.default_rng(0)
    a = rng.integers(-2**31, 2**31, (8, 2, 16), dtype=np.int64).astype(np.int32)
    w = rng.integers(-2**31, 2**31, (8, 16), dtype=np.int64).astype(np.int32)
    y, y8 = np.empty((8, 16), np.int32), np.empty((8, 8), np.int32)
    mf = cl.mem_flags
    bufs = [cl.Buffer(ctx, mf.READ_ONLY | mf.COPY_HOST_PTR, hostbuf=v) for v in (a, w)]
    outs = [cl.Buffer(ctx, mf.WRITE_ONLY, v.nbytes) for v in (y, y8)]
    kernel(queue, (8,), None, *bufs, *outs)
    for host, buf in zip((y, y8), outs):
        cl.enqueue_copy(queue, host, buf)
    ua = a[:, 0].view(np.uint8).reshape(8, 16, 4).astype(np.int64)
    sw = w.view(np.int8).reshape(8, 16, 4).astype(np.int64)
    expected = (a[:, 1].astype(np.int64) + (ua * sw).sum(axis=2) + 2**31) % 2**32 - 2**31
    return bool(np.array_equal(y, expected) and np.array_equal(y8, expected[:, :8]))


if __name__ == "__main__":
    ok = probe(*sys.argv[1:3]) if len(sys.argv) == 3 else False
    print("vnni ok" if ok else "vnni not available")
    sys.exit(0 if ok else 1)
