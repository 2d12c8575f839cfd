"""Make the pip-installed CPU OpenCL runtimes visible without manual environment variables.

pyopencl's bundled ICD loader (ocl-icd) reads ``OCL_ICD_VENDORS`` (a folder of
``.icd`` files, each naming one driver library) or, when that is unset,
``/etc/OpenCL/vendors``; pyopencl's wheel also adds its own ``.libs`` folder,
where ``pocl-binary-distribution`` puts PoCL.  Intel's CPU runtime
(``intel-opencl-rt``) installs ``<prefix>/lib/libintelocl.so`` but no usable
``.icd`` entry, so without help its platform silently does not appear.

:func:`register_runtimes` writes a private vendors folder under the user cache
dir holding the Intel CPU runtime's absolute path, every system entry (so a real
GPU driver stays visible) and PoCL libraries found in Python packages, then points
``OCL_ICD_VENDORS`` at it.  It must run before the first platform query of the
process; :func:`gpu_int8.scheduler.devices.discover_devices` calls it first.
"""

from __future__ import annotations

import glob
import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

SYSTEM_VENDORS_DIR = Path("/etc/OpenCL/vendors")
_ENV = "OCL_ICD_VENDORS"


@dataclass
class RuntimeRegistration:
    """What :func:`register_runtimes` did, for ``devices`` and for error messages."""

    vendors_dir: Path | None = None
    entries: dict[str, str] = field(default_factory=dict)  # icd file name -> library
    notes: list[str] = field(default_factory=list)
    env_set: bool = False


_REGISTRATION: RuntimeRegistration | None = None


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gpu_int8`` (default ``~/.cache/gpu_int8``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gpu_int8"


def intel_cpu_runtime_library() -> Path | None:
    """Intel's pip-installed CPU OpenCL driver, ``<sys.prefix>/lib/libintelocl.so``, if present."""
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        lib = Path(prefix) / "lib" / "libintelocl.so"
        if lib.is_file():
            return lib.resolve()
    return None


def _pyopencl_libs_dir() -> Path | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec("pyopencl")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent / ".libs"


def pocl_libraries() -> list[Path]:
    """PoCL driver libraries shipped inside Python packages (pocl-binary-distribution, pyopencl wheels)."""
    found = []
    dirs = [_pyopencl_libs_dir()]
    try:
        import importlib.util

        spec = importlib.util.find_spec("pocl_binary_distribution")
        if spec is not None and spec.origin:
            dirs.append(Path(spec.origin).parent / ".libs")
    except (ImportError, ValueError):
        pass
    for d in dirs:
        if d is None or not d.is_dir():
            continue
        for lib in sorted(glob.glob(str(d / "libpocl*.so*"))):
            found.append(Path(lib).resolve())
    return list(dict.fromkeys(found))


def _system_entries() -> dict[str, str]:
    entries = {}
    if SYSTEM_VENDORS_DIR.is_dir():
        for icd in sorted(SYSTEM_VENDORS_DIR.glob("*.icd")):
            try:
                lib = icd.read_text(errors="replace").strip()
            except OSError:
                continue
            if lib:
                entries[f"system-{icd.name}"] = lib
    return entries


def _write_vendors_dir(entries: dict[str, str]) -> Path:
    """One folder per distinct entry set, so concurrent processes never see a half-written folder."""
    digest = hashlib.sha256(repr(sorted(entries.items())).encode()).hexdigest()[:16]
    folder = user_cache_dir() / "opencl_vendors" / digest
    folder.mkdir(parents=True, exist_ok=True)
    for name, lib in entries.items():
        path = folder / name
        if path.is_file() and path.read_text().strip() == lib:
            continue
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(lib + "\n")
        os.replace(tmp, path)
    return folder


def register_runtimes(force: bool = False) -> RuntimeRegistration:
    """Point the ICD loader at a vendors folder holding the pip runtimes and the system's entries.

    Idempotent.  A user who set ``OCL_ICD_VENDORS`` keeps their choice.  Has no
    effect once the process has queried platforms (the loader reads its list once).
    """
    global _REGISTRATION
    if _REGISTRATION is not None and not force:
        return _REGISTRATION
    reg = RuntimeRegistration()
    if os.environ.get(_ENV) and not force:
        reg.notes.append(f"{_ENV} is set by the user ({os.environ[_ENV]}); left unchanged")
        _REGISTRATION = reg
        return reg
    entries = _system_entries()
    intel = intel_cpu_runtime_library()
    if intel is not None:
        entries["gpu_int8-intel-cpu.icd"] = str(intel)
    else:
        reg.notes.append("Intel CPU runtime (intel-opencl-rt) not installed")
    # pyopencl's wheel loader reads its own .libs folder by itself; listing PoCL again is
    # harmless because discovery drops duplicate platforms (same library, same handle).
    for i, lib in enumerate(pocl_libraries()):
        entries[f"gpu_int8-pocl-{i}.icd"] = str(lib)
    if not entries:
        reg.notes.append("no OpenCL runtime found (system vendors folder empty, no pip runtimes)")
        _REGISTRATION = reg
        return reg
    try:
        reg.vendors_dir = _write_vendors_dir(entries)
    except OSError as exc:
        reg.notes.append(f"cannot write the vendors folder: {exc}")
        _REGISTRATION = reg
        return reg
    reg.entries = entries
    os.environ[_ENV] = str(reg.vendors_dir)
    reg.env_set = True
    _REGISTRATION = reg
    return reg
