"""The machine code of the 512-bit VNNI kernel on Intel's CPU runtime.

The runtime's device binary embeds an x86 ELF object; ``objdump`` disassembles it.  The
kernel must multiply with ``vpdpbusd`` on zmm registers (the instruction it binds through
LLVM's intrinsic), one per accumulator of its register tile, and call no library routine.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from gpu_int8.scheduler.conv_geometry import ConvGeometry
from gpu_int8.scheduler.conv_kernels import ConvKernel
from gpu_int8.scheduler.vnni_gemm import vnni_channel_blocks, vnni_half_block
from tests.kernels.conftest import vnni_device


def _disassemble(binary: bytes, tmp_path) -> str:
    """objdump -d of the first ELF object inside the runtime's binary that has code."""
    for start in (m.start() for m in re.finditer(b"\x7fELF", binary)):
        obj = tmp_path / f"kernel{start}.o"
        obj.write_bytes(binary[start:])
        text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(obj)], capture_output=True,
                              text=True).stdout
        if "conv_gemm_vnni" in text:
            return text
    return ""


def _function(disassembly: str, name: str) -> str:
    match = re.search(rf"^[0-9a-f]+ <{name}[^>]*>:\n(.*?)(?=^[0-9a-f]+ <|\Z)", disassembly, re.M | re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize("geom", [ConvGeometry(1, 64, 14, 14, 256), ConvGeometry(1, 3, 30, 30, 24, 3, 3, (2, 2)),
                                  ConvGeometry(1, 3, 30, 30, 8, 3, 3, (2, 2))],
                         ids=["1x1-64to256", "3x3-3ch-24", "3x3-3ch-8"])
def test_vnni_kernel_multiplies_with_512_bit_vpdpbusd(geom, tmp_path):
    """zmm vpdpbusd for every 16-channel block of the tile, ymm for a last block of 8 (the
    24-channel case; the 8-channel one has only that), no 128-bit form, no library calls."""
    dev = vnni_device()
    if shutil.which("objdump") is None:
        pytest.skip("objdump (binutils) is not installed")
    w = np.ones((geom.cout, geom.cin_g, geom.kh, geom.kw), np.int8)
    ones = np.ones(geom.cout, np.float32)
    kernel = ConvKernel(dev, "portable", geom, w, np.zeros(geom.cout, np.int32), ones, 0 * ones, variant="vnni")
    code = _function(_disassemble(kernel.binary(), tmp_path), "conv_gemm_vnni")
    assert code, "no conv_gemm_vnni function in the device binary"
    wide = re.findall(r"vpdpbusd\s+\S*zmm", code)
    half = re.findall(r"vpdpbusd\s+\S*ymm", code)  # the 8-lane last block (24 channels: 16 + 8)
    narrow = re.findall(r"vpdpbusd\s+\S*xmm", code)
    blocks, halves = vnni_channel_blocks(geom.cout), int(vnni_half_block(geom.cout))
    print(f"\n{geom}: {len(wide)} zmm and {len(half)} ymm vpdpbusd (tile {kernel.tile} x {blocks} blocks"
          f" + {halves} half)", end="")
    assert len(wide) >= kernel.tile * blocks and len(half) >= kernel.tile * halves and not narrow
    assert halves or not half
    assert "call" not in code, "the kernel calls a library routine"
