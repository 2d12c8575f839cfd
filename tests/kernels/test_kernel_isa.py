"""The Intel-family kernels on paper for Iris Xe (tgllp) and Xe MAX (dg1): Intel's offline
compiler ``ocloc`` (Debian package intel-opencl-icd) builds them without a GPU and dumps
the ISA.  Every convolution GEMM must have dp4a in its inner loop, every kernel the SIMD
width it asked for and no register spill."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gpu_int8.scheduler.offline import (
    OFFLINE_DEVICES,
    analyze_asm,
    check_intel_family,
    find_ocloc,
    intel_family_variants,
)

pytestmark = pytest.mark.skipif(find_ocloc() is None,
                                reason="ocloc not installed (apt-get install intel-opencl-icd)")


@pytest.mark.parametrize("target", OFFLINE_DEVICES)
def test_intel_family_isa(target):
    variants = intel_family_variants(include_khr_dot=False)
    assert len(variants) >= 10
    for v in variants:
        reports = check_intel_family(target, variants=[v])
        assert len(reports) == 1, f"{v.label}: one kernel per program expected"
        r = reports[0]
        print(r.line())
        assert r.simd == v.subgroup_size, f"{v.label} on {target}: SIMD{r.simd}, asked for {v.subgroup_size}"
        assert r.spill_bytes == 0, f"{v.label} on {target}: {r.spill_bytes} bytes spilled"
        assert r.calls == 0, f"{v.label} on {target}: {r.calls} function calls"
        if v.expect_dp4a:
            assert r.loops >= 1 and r.dp4a_inner_loop >= v.subgroup_size, \
                f"{v.label} on {target}: {r.dp4a_inner_loop} dp4a in the inner loop"


def test_khr_dot_product_builtins_are_reported():
    """What cl_khr_integer_dot_product's builtins become is recorded (this IGC: calls and spills)."""
    variants = [v for v in intel_family_variants(include_khr_dot=True) if "dot" in v.label]
    assert variants
    for r in check_intel_family("tgllp", variants=variants):
        print(r.line())
        assert r.simd == 16 and r.instructions > 0


def test_asm_reader_on_a_handwritten_dump():
    asm = "\n".join([
        "//.kernel k", "//.instCount 9", "//.spill size 64",
        "_main:", "        mov (8|M0)  r1.0<1>:d  0:w",
        "_0_1:", "        dp4a (8|M0)  r2.0<1>:d  r2.0<8;8,1>:d  r3.0<8;1>:ud  r4.0<0>:d",
        "        dp4a (8|M0)  r2.0<1>:d  r2.0<8;8,1>:d  r3.0<8;1>:ud  r4.0<0>:d",
        "(f0.0)  while (8|M0)  _0_1",
        "        dp4a (8|M0)  r5.0<1>:d  r2.0<8;8,1>:d  r3.0<8;1>:ud  r4.0<0>:d  // after the loop",
        "(W)     send.dc0 (1|M0)  r6  r5  null  0x0  0x02110801",
    ])
    r = analyze_asm(asm, 8, "hand")
    assert (r.kernel, r.simd, r.dp4a, r.dp4a_inner_loop, r.inner_loop_instructions, r.loops, r.spill_bytes, r.sends,
            r.instructions) == ("k", 8, 3, 2, 3, 1, 64, 1, 9)


def test_devices_command_offline():
    proc = subprocess.run([sys.executable, "-m", "gpu_int8", "devices", "--offline", "dg1", "--no-khr-dot"],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Intel-family kernels compiled for dg1 with ocloc" in out
    assert "conv3x3 sg16 u8" in out and "SIMD16" in out and "SIMD8" in out and "no spill" in out
