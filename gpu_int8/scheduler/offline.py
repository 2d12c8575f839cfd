"""Check the Intel-family kernels on paper for Intel GPUs with ``ocloc`` (no GPU needed).

``ocloc compile -device tgllp`` (Iris Xe; ``dg1`` for Xe MAX) runs Intel's GPU compiler
(IGC); with ``IGC_ShaderDumpEnable=1 IGC_DumpToCustomDir=DIR`` it writes the generated ISA
as ``*_simd<W>_entry_<n>.asm`` (the file name carries the SIMD width, ``//.kernel <name>``
names the kernel, ``//.spill size`` appears when registers spill).  :func:`analyze_asm`
reads such a file: SIMD width, dp4a count in the whole kernel and in its innermost loop,
spill size, calls, sends.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .conv_geometry import ConvGeometry
from .conv_kernels import OUT_TYPES, default_intel_tile, intel_k4
from .program_cache import defines_to_options, kernel_source

OFFLINE_DEVICES = ("tgllp", "dg1")
# IGC may compile a kernel twice ("retry" after a spill); the retry's files carry "_<n>_"
# before "simd" and hold the code that is kept
_ASM_NAME = re.compile(r"^(?P<base>.*?)(?:_(?P<retry>\d+))?_simd(?P<simd>\d+)_entry_(?P<entry>\d+)\.asm$")
_LABEL = re.compile(r"^(_[A-Za-z0-9_]+):\s*$")
_BACK_BRANCH = re.compile(r"^\s*(?:\([^)]*\))?\s*(?:while|jmpi|goto)\b[^_]*\s(_[A-Za-z0-9_]+)")


def find_ocloc() -> str | None:
    """Path of ``ocloc`` (Debian package intel-opencl-icd), or None."""
    return shutil.which("ocloc")


@dataclass
class IsaReport:
    """What the generated ISA of one kernel says."""

    variant: str
    kernel: str
    simd: int
    dp4a: int
    dp4a_inner_loop: int
    inner_loop_instructions: int
    loops: int
    spill_bytes: int
    calls: int
    sends: int
    instructions: int
    retried: bool = False  # IGC compiled it a second time (its first attempt spilled)

    def line(self) -> str:
        spill = f"spill {self.spill_bytes} B" if self.spill_bytes else "no spill"
        return (f"{self.variant:<30} SIMD{self.simd:<3} dp4a {self.dp4a:>4} "
                f"(inner loop {self.dp4a_inner_loop:>3} of {self.inner_loop_instructions:>4} instr.)  "
                f"{spill:<16} calls {self.calls:<4} sends {self.sends:<5} instructions {self.instructions}"
                + ("  (IGC retry)" if self.retried else ""))


def analyze_asm(text: str, simd: int, variant: str = "") -> IsaReport:
    """Read one ``.asm`` dump: dp4a in the innermost loop, spills, calls, sends."""
    lines = text.splitlines()
    kernel = ""
    spill = 0
    inst = 0
    labels: dict[str, int] = {}
    for i, ln in enumerate(lines):
        if ln.startswith("//.kernel "):
            kernel = ln.split(None, 1)[1].strip()
        elif ln.startswith("//.spill size"):
            spill = int(ln.split()[-1])
        elif ln.startswith("//.instCount"):
            inst = int(ln.split()[-1])
        m = _LABEL.match(ln)
        if m:
            labels[m.group(1)] = i
    loops = []
    for i, ln in enumerate(lines):
        m = _BACK_BRANCH.match(ln)
        if m and m.group(1) in labels and labels[m.group(1)] < i:
            loops.append((labels[m.group(1)], i))
    innermost = [lp for lp in loops if not any(o != lp and lp[0] <= o[0] and o[1] <= lp[1] for o in loops)]

    def is_dp4a(ln: str) -> bool:
        return re.search(r"\bdp4a\b", ln.split("//")[0]) is not None

    code = [ln for ln in lines if not ln.lstrip().startswith("//")]
    dp4a_inner = sum(1 for a, b in innermost for ln in lines[a:b + 1] if is_dp4a(ln))
    inner_instr = sum(1 for a, b in innermost for ln in lines[a:b + 1]
                      if ln.strip() and not ln.lstrip().startswith("//") and not _LABEL.match(ln))
    return IsaReport(
        variant=variant, kernel=kernel, simd=simd,
        dp4a=sum(1 for ln in code if is_dp4a(ln)),
        dp4a_inner_loop=dp4a_inner,
        inner_loop_instructions=inner_instr,
        loops=len(loops),
        spill_bytes=spill,
        calls=sum(1 for ln in code if re.match(r"^\s*(?:\([^)]*\))?\s*call[a-z]*\b", ln)),
        sends=sum(1 for ln in code if re.search(r"\bsends?[a-z]*(?:\.[a-z0-9]+)?\s", ln)),
        instructions=inst,
    )


def compile_with_ocloc(source: str, options: list[str], device: str, variant: str = "",
                       ocloc: str | None = None, timeout: float = 300) -> list[IsaReport]:
    """Compile ``source`` for ``device`` and analyze every kernel's ISA (raises RuntimeError on failure)."""
    ocloc = ocloc or find_ocloc()
    if ocloc is None:
        raise RuntimeError("ocloc not found (apt-get install intel-opencl-icd)")
    with tempfile.TemporaryDirectory(prefix="gpu_int8_ocloc_") as tmp:
        src = Path(tmp) / "kernel.cl"
        src.write_text(source)
        dump = Path(tmp) / "dump"
        env = dict(os.environ, IGC_ShaderDumpEnable="1", IGC_DumpToCustomDir=str(dump))
        cmd = [ocloc, "compile", "-q", "-file", str(src), "-device", device, "-output_no_suffix",
               "-out_dir", str(Path(tmp) / "out"), "-options", " ".join(options)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"ocloc failed for {variant or 'kernel'} on {device}:\n{proc.stdout}{proc.stderr}")
        final: dict[tuple[str, str], tuple[int, Path, int]] = {}
        for asm in sorted(dump.glob("*.asm")):
            m = _ASM_NAME.match(asm.name)
            if not m:  # e.g. the symbol table stub of a program with function calls
                continue
            key = (m.group("base"), m.group("entry"))
            attempt = int(m.group("retry") or 0)
            if key not in final or attempt > final[key][0]:
                final[key] = (attempt, asm, int(m.group("simd")))
        reports = []
        for attempt, asm, simd in final.values():
            rep = analyze_asm(asm.read_text(errors="replace"), simd, variant)
            rep.retried = attempt > 0
            reports.append(rep)
        if not reports:
            raise RuntimeError(f"ocloc wrote no ISA dump for {variant or 'kernel'} on {device}")
        return reports


# -- the Intel family's kernels, at representative shapes -------------------------------------

@dataclass
class OfflineVariant:
    label: str
    source_file: str
    options: list[str]
    subgroup_size: int
    expect_dp4a: bool  # a K reduction over channels: dp4a belongs in its inner loop


def _conv_options(geom: ConvGeometry, sg: int, tile: int, act: str = "u8", out: str = "u8",
                  dot_mode: int = 0) -> list[str]:
    out_t, out_mode, _ = OUT_TYPES[out]
    defines = dict(ACT_T="uchar" if act == "u8" else "char", ACT_IS_SIGNED=int(act == "i8"), OUT_T=out_t,
                   OUT_MODE=out_mode, SG=sg, **geom.geometry_defines())
    if geom.is_depthwise:
        defines.update(TW=tile)
    else:
        cin4, k4pad = intel_k4(geom, sg)
        defines.update(TP=tile, CIN4=cin4, K4PAD=k4pad, DOT_MODE=dot_mode,
                       BYTE_GATHER=int(not (geom.groups == 1 or geom.cin_g % 4 == 0)), PADDED=int(geom.is_padded),
                       COUT_BLOCKS=-(-geom.cout_g // sg))
    return ["-cl-std=CL3.0", *defines_to_options(defines)]


def intel_family_variants(include_khr_dot: bool = True) -> list[OfflineVariant]:
    """Every Intel-family kernel at a ResNet/MobileNet-like shape, both subgroup sizes."""
    shapes = {
        "conv3x3": ConvGeometry(1, 64, 56, 56, 64, 3, 3, (1, 1), (1, 1), (1, 1)),
        "conv1x1": ConvGeometry(1, 256, 56, 56, 64),
        "conv3x3s2": ConvGeometry(1, 128, 56, 56, 128, 3, 3, (2, 2), (1, 1), (1, 1)),
        "fc": ConvGeometry.matmul(1, 2048, 1000),
        "dwconv3x3": ConvGeometry(1, 32, 112, 112, 32, 3, 3, (1, 1), (1, 1), (1, 1), groups=32),
    }
    out = []
    for sg in (8, 16):
        for name, geom in shapes.items():
            src = "dwconv_intel.cl" if geom.is_depthwise else "conv_gemm_intel.cl"
            tile = default_intel_tile(geom, sg)
            out.append(OfflineVariant(f"{name} sg{sg} u8", src, _conv_options(geom, sg, tile), sg,
                                      not geom.is_depthwise))
        conv3 = shapes["conv3x3"]
        out.append(OfflineVariant(f"conv3x3 sg{sg} i8", "conv_gemm_intel.cl",
                                  _conv_options(conv3, sg, default_intel_tile(conv3, sg), "i8"), sg, True))
    if include_khr_dot:
        for mode, what in ((1, "dot_acc_sat"), (2, "dot_4x8packed")):
            geom = shapes["conv3x3"]
            out.append(OfflineVariant(f"conv3x3 sg16 u8 {what}", "conv_gemm_intel.cl",
                                      _conv_options(geom, 16, default_intel_tile(geom, 16), dot_mode=mode), 16,
                                      False))
    return out


def check_intel_family(device: str, include_khr_dot: bool = True,
                       variants: list[OfflineVariant] | None = None) -> list[IsaReport]:
    """Compile every Intel-family variant for ``device`` and return one report per kernel."""
    reports = []
    for v in variants if variants is not None else intel_family_variants(include_khr_dot):
        reports += compile_with_ocloc(kernel_source(v.source_file), v.options, device, v.label)
    return reports


__all__ = ["OFFLINE_DEVICES", "IsaReport", "analyze_asm", "check_intel_family", "compile_with_ocloc",
           "find_ocloc", "intel_family_variants"]
