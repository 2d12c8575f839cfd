"""OpenCL program build with a disk cache of device binaries.

The key is the device name, driver and platform version, the build options and
the SHA-256 of the full source (includes already inlined), so a second build of
the same program loads the binary instead of compiling.  pyopencl's own source
cache is bypassed so this cache is the only one and its hits are countable.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .runtimes import user_cache_dir

#: gpu_int8/cl_kernels, shipped as package data
KERNELS_DIR = Path(__file__).resolve().parent.parent / "cl_kernels"
_INCLUDE = re.compile(r'^\s*#\s*include\s+"([A-Za-z0-9_.]+)"\s*$', re.M)


def kernel_source(name: str) -> str:
    """The text of ``gpu_int8/cl_kernels/<name>``, with ``#include "x.cl"`` lines inlined (once each)."""
    seen: set[str] = set()

    def load(fname: str) -> str:
        if fname in seen:
            return ""
        seen.add(fname)
        text = (KERNELS_DIR / fname).read_text()
        return _INCLUDE.sub(lambda m: load(m.group(1)), text)

    return load(name if name.endswith(".cl") else name + ".cl")


def defines_to_options(defines: dict[str, object]) -> list[str]:
    """``{"TILE": 16}`` -> ``["-DTILE=16"]`` (bools as 0/1), in a stable order."""
    out = []
    for key in sorted(defines):
        val = defines[key]
        if isinstance(val, bool):
            val = int(val)
        out.append(f"-D{key}={val}")
    return out


@dataclass
class ProgramCache:
    """Build programs for one device, keeping binaries in ``directory``."""

    directory: Path = field(default_factory=lambda: user_cache_dir() / "programs")
    compiled: int = 0  # builds from source in this process
    loaded: int = 0  # builds from a cached binary

    def key(self, cl_device, source: str, options: str) -> str:
        ident = "\0".join([cl_device.name, cl_device.driver_version, cl_device.platform.name,
                           cl_device.platform.version, options, hashlib.sha256(source.encode()).hexdigest()])
        return hashlib.sha256(ident.encode()).hexdigest()

    def build(self, context, cl_device, source: str, options: list[str] | str = ()):
        """A built ``pyopencl.Program`` for ``cl_device``: from the disk cache when present, else compiled."""
        import pyopencl as cl

        opts = options if isinstance(options, str) else " ".join(options)
        key = self.key(cl_device, source, opts)
        path = self.directory / f"{key}.bin"
        if path.is_file():
            try:
                binary = path.read_bytes()
                prg = cl.Program(context, [cl_device], [binary]).build(options=opts, cache_dir=False)
                self.loaded += 1
                return prg
            except (cl.Error, OSError):
                pass  # stale or corrupt entry: compile again and overwrite it
        prg = cl.Program(context, source)
        try:
            prg.build(options=opts, cache_dir=False)
        except cl.RuntimeError as exc:
            raise BuildError(str(exc), source, opts) from None
        self.compiled += 1
        self._store(path, prg, cl_device)
        return prg

    def _store(self, path: Path, prg, cl_device) -> None:
        import pyopencl as cl

        try:
            devices = prg.get_info(cl.program_info.DEVICES)
            binaries = prg.get_info(cl.program_info.BINARIES)
            binary = binaries[[d.int_ptr for d in devices].index(cl_device.int_ptr)]
        except (cl.Error, ValueError):
            return
        if not binary:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(binary)
        os.replace(tmp, path)


class BuildError(RuntimeError):
    """An OpenCL program that does not compile; carries the build log and the options."""

    def __init__(self, log: str, source: str, options: str):
        self.log, self.source, self.options = log, source, options
        super().__init__(f"OpenCL build failed (options: {options}):\n{log}")
