"""The report files of ``benchmark``, in benchmark_app's CSV layout (';'-separated)."""

from __future__ import annotations

import csv
from pathlib import Path

REPORT_FILES = {
    "no_counters": ("benchmark_report.csv",),
    "average_counters": ("benchmark_report.csv", "benchmark_average_counters_report.csv"),
}


class StepAverages:
    """Per-step device times summed over iterations (``Engine.profile()`` after each)."""

    def __init__(self):
        self.iterations = 0
        self.steps: dict[str, list] = {}  # name -> [kind, precision, kernel, where, total seconds]

    def add(self, profile: list | None) -> None:
        if profile is None:
            return
        self.iterations += 1
        for s in profile:
            row = self.steps.setdefault(s.name, [s.kind, s.precision, s.kernel, s.where, 0.0])
            row[4] += s.seconds

    @property
    def available(self) -> bool:
        return self.iterations > 0

    def rows(self) -> list[tuple[str, str, str, str, str, float]]:
        """(step, kind, precision, kernel, where, average ms) in execution order."""
        return [(name, kind, prec, kernel, where, total / self.iterations * 1e3)
                for name, (kind, prec, kernel, where, total) in self.steps.items()]

    def table(self) -> str:
        rows = self.rows()
        lines = [f"{'step':40s} {'kind':11s} {'prec':4s} {'where':6s} {'avg time':>11s}  kernel"]
        lines += [f"{n[:40]:40s} {k:11s} {p:4s} {w:6s} {ms:8.3f} ms  {kern}" for n, k, p, kern, w, ms in rows]
        lines.append(f"total {sum(r[5] for r in rows):.3f} ms per inference, over {self.iterations} iterations")
        return "\n".join(lines)


def write_reports(folder: Path, report_type: str, parameters: dict, stats: dict,
                  averages: StepAverages | None) -> list[Path]:
    """Write the files of ``report_type`` into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    main = folder / REPORT_FILES[report_type][0]
    with open(main, "x", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(["Command line parameters"])
        for key in ("model", "config", "shape", "input", "seconds", "niter", "report_type", "report_folder"):
            out.writerow([key, parameters.get(key)])
        out.writerow([])
        out.writerow(["Execution results"])
        for key in ("count", "duration_ms", "median_ms", "average_ms", "min_ms", "max_ms", "throughput_fps"):
            out.writerow([key, f"{stats[key]:.4f}" if isinstance(stats[key], float) else stats[key]])
    written = [main]
    if report_type == "average_counters":
        path = folder / REPORT_FILES[report_type][1]
        with open(path, "x", newline="") as f:
            out = csv.writer(f, delimiter=";")
            out.writerow(["layerName", "execStatus", "layerType", "execType", "realTime (ms)", "precision", "where"])
            for name, kind, prec, kernel, where, ms in (averages.rows() if averages else []):
                out.writerow([name, "EXECUTED", kind, kernel, f"{ms:.4f}", prec, where])
        written.append(path)
    return written
