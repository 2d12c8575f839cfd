"""OpenVINO's side of a benchmark, in a process of its own.

In one process, OpenVINO's CPU plugin and Intel's CPU OpenCL runtime load the same
oneTBB library and share its worker threads: on 2 cores, one.  After OpenVINO had run,
gpu_int8's kernels waited for that worker and ran 20-25% slower for as long as the
benchmark alternated (PP-OCRv4 det: 9.1 ms alone, 11.4 ms in blocks after OpenVINO's),
while OpenVINO lost 1-3% after gpu_int8.  Here OpenVINO runs in a child interpreter that
times blocks of calls on request: the two still alternate in time, on their own threads.

    python benchmarks/openvino_process.py MODEL.xml INPUTS.npz   (the child; one line per request)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


class OpenVINOProcess:
    """OpenVINO CPU (latency hint) running ``xml`` on ``inputs`` (arrays in the model's input
    order) in a child process; :meth:`time_calls` times it there for about ``seconds``."""

    def __init__(self, xml, inputs: list[np.ndarray]):
        self._folder = tempfile.TemporaryDirectory(prefix="gpu_int8_openvino_")
        feeds = Path(self._folder.name) / "inputs.npz"
        np.savez(feeds, *inputs)
        self._child = subprocess.Popen([sys.executable, __file__, str(xml), str(feeds)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)
        if self._child.stdout.readline().strip() != "ready":
            self.close()
            raise RuntimeError(f"OpenVINO could not run {xml} (its error is above)")

    def time_calls(self, seconds: float) -> list[float]:
        """Per-call wall times (s) of OpenVINO's inference for about ``seconds`` (at least 5 calls)."""
        self._child.stdin.write(f"{seconds}\n")
        self._child.stdin.flush()
        return json.loads(self._child.stdout.readline())

    def close(self) -> None:
        if self._child.poll() is None:
            self._child.stdin.close()
            self._child.wait(30)
        self._folder.cleanup()

    def __enter__(self) -> OpenVINOProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(xml: str, feeds_path: str) -> None:
    import openvino as ov

    with np.load(feeds_path) as data:
        feeds = {i: data[f"arr_{i}"] for i in range(len(data.files))}
    request = ov.Core().compile_model(xml, "CPU", {"PERFORMANCE_HINT": "LATENCY"}).create_infer_request()
    request.infer(feeds)
    print("ready", flush=True)
    for line in sys.stdin:
        times, end = [], time.perf_counter() + float(line)
        while time.perf_counter() < end or len(times) < 5:
            t0 = time.perf_counter()
            request.infer(feeds)
            times.append(time.perf_counter() - t0)
        print(json.dumps(times), flush=True)


if __name__ == "__main__":
    _serve(*sys.argv[1:3])
