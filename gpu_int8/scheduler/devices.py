"""OpenCL device discovery and the capabilities that decide which kernels a device gets.

pyopencl does not know the Intel and ``cl_khr_integer_dot_product`` query codes,
so those are read with ``clGetDeviceInfo`` through ctypes on the same ICD loader.
"""

from __future__ import annotations

import ctypes
import glob
import os
import re
from dataclasses import dataclass, field
from typing import Any

from .runtimes import register_runtimes

# query codes from CL/cl_ext.h
CL_DEVICE_SUB_GROUP_SIZES_INTEL = 0x4108
CL_DEVICE_FEATURE_CAPABILITIES_INTEL = 0x4256
CL_DEVICE_FEATURE_FLAG_DP4A_INTEL = 1 << 0
CL_DEVICE_FEATURE_FLAG_DPAS_INTEL = 1 << 1
CL_DEVICE_INTEGER_DOT_PRODUCT_CAPABILITIES_KHR = 0x1073
CL_DEVICE_INTEGER_DOT_PRODUCT_INPUT_4x8BIT_PACKED_KHR = 1 << 0
CL_DEVICE_INTEGER_DOT_PRODUCT_INPUT_4x8BIT_KHR = 1 << 1

#: extensions the Intel kernel family needs
INTEL_FAMILY_EXTENSIONS = ("cl_intel_subgroups", "cl_intel_subgroups_char", "cl_intel_required_subgroup_size")


@dataclass
class DeviceInfo:
    """One OpenCL device and what matters for kernel selection."""

    index: int
    platform_name: str
    platform_version: str
    name: str
    vendor: str
    kind: str  # "gpu", "cpu", "accelerator", "other"
    driver_version: str
    opencl_c_version: str  # e.g. "3.0"; the highest the device accepts
    extensions: frozenset[str]
    subgroup_sizes: tuple[int, ...]
    integer_dot_caps: int
    feature_caps_intel: int | None  # None where cl_intel_device_attribute_query is absent
    global_mem_bytes: int
    local_mem_bytes: int
    max_alloc_bytes: int
    compute_units: int
    max_work_group_size: int
    cl_device: Any = field(default=None, repr=False, compare=False)

    # -- derived capabilities --------------------------------------------------------------

    @property
    def is_gpu(self) -> bool:
        return self.kind == "gpu"

    @property
    def is_intel_cpu_runtime(self) -> bool:
        return self.kind == "cpu" and "intel" in self.platform_name.lower()

    @property
    def is_pocl(self) -> bool:
        return "portable computing language" in self.platform_name.lower() or "pocl" in self.platform_version.lower()

    @property
    def has_subgroups(self) -> bool:
        return "cl_intel_subgroups" in self.extensions

    @property
    def has_integer_dot_product(self) -> bool:
        return "cl_khr_integer_dot_product" in self.extensions

    @property
    def has_dp4a(self) -> bool:
        """Hardware dp4a, as Intel's device attribute query reports it (GPUs from Gen12 on)."""
        return self.feature_caps_intel is not None and bool(self.feature_caps_intel & CL_DEVICE_FEATURE_FLAG_DP4A_INTEL)

    @property
    def has_dpas(self) -> bool:
        return self.feature_caps_intel is not None and bool(self.feature_caps_intel & CL_DEVICE_FEATURE_FLAG_DPAS_INTEL)

    @property
    def intel_family_subgroup_sizes(self) -> tuple[int, ...]:
        """Subgroup sizes the Intel family kernels are written for (8, 16) that the device supports."""
        return tuple(s for s in (8, 16) if s in self.subgroup_sizes)

    @property
    def supports_intel_family(self) -> bool:
        """Whether the Intel kernel family compiles and runs here (subgroups, char block IO, 8 or 16 wide)."""
        return (all(e in self.extensions for e in INTEL_FAMILY_EXTENSIONS)
                and bool(self.intel_family_subgroup_sizes) and self.opencl_c_major >= 2)

    @property
    def opencl_c_major(self) -> int:
        try:
            return int(self.opencl_c_version.split(".")[0])
        except ValueError:
            return 1

    @property
    def keeps_work_items_apart(self) -> bool:
        """Whether kernels can ask not to be vectorized across work-items (so the compiler vectorizes
        their own loops): Intel's CPU runtime, for kernels requiring subgroups of one
        (cl_intel_required_subgroup_size; GPUs have no such size)."""
        return not self.is_gpu and "cl_intel_required_subgroup_size" in self.extensions

    @property
    def vector_width(self) -> int:
        """The widest vectors (lanes of 32 or 8 bits) the channel- and pixel-vector kernels use:
        16 (one zmm) where work-items are kept apart, else 8 (PoCL built for AVX2 mishandles
        16-wide vector arguments; see cl_kernels/requant.cl)."""
        return 16 if self.keeps_work_items_apart else 8

    @property
    def cl_std_option(self) -> str:
        """``-cl-std=`` for this device: CL3.0 where supported (Intel's extensions need >= 2.0), else CL1.2."""
        if self.opencl_c_major >= 3:
            return "-cl-std=CL3.0"
        if self.opencl_c_major == 2:
            return "-cl-std=CL2.0"
        return "-cl-std=CL1.2"

    def label(self) -> str:
        return f"{self.name} [{self.platform_name}]"

    def capability_lines(self) -> list[str]:
        """Human-readable capability summary (for ``devices``)."""
        yes = {True: "yes", False: "no"}
        mib = 1 << 20
        dp4a = "n/a (no cl_intel_device_attribute_query)" if self.feature_caps_intel is None else yes[self.has_dp4a]
        dot = "no"
        if self.has_integer_dot_product:
            forms = [n for bit, n in ((CL_DEVICE_INTEGER_DOT_PRODUCT_INPUT_4x8BIT_PACKED_KHR, "4x8bit packed"),
                                      (CL_DEVICE_INTEGER_DOT_PRODUCT_INPUT_4x8BIT_KHR, "4x8bit"))
                     if self.integer_dot_caps & bit]
            dot = "yes (" + ", ".join(forms or ["no forms reported"]) + ")"
        return [
            f"type: {self.kind}, driver {self.driver_version}, OpenCL C {self.opencl_c_version}",
            f"compute units: {self.compute_units}, max work-group size: {self.max_work_group_size}",
            f"memory: global {self.global_mem_bytes // mib} MiB, max alloc {self.max_alloc_bytes // mib} MiB, "
            f"local {self.local_mem_bytes // 1024} KiB",
            f"cl_intel_subgroups: {yes[self.has_subgroups]} "
            f"(char: {yes['cl_intel_subgroups_char' in self.extensions]}, "
            f"short: {yes['cl_intel_subgroups_short' in self.extensions]})",
            f"cl_intel_required_subgroup_size: {yes['cl_intel_required_subgroup_size' in self.extensions]}, "
            f"sizes: {', '.join(map(str, self.subgroup_sizes)) or '-'}",
            f"cl_khr_integer_dot_product: {dot}",
            f"dp4a (Intel feature flag): {dp4a}",
        ]


# -- raw queries ---------------------------------------------------------------------------

_CL_GET_DEVICE_INFO = None


def _cl_get_device_info():
    """``clGetDeviceInfo`` from the ICD loader pyopencl uses (the library is already loaded)."""
    global _CL_GET_DEVICE_INFO
    if _CL_GET_DEVICE_INFO is None:
        import pyopencl

        libs = sorted(glob.glob(os.path.join(os.path.dirname(pyopencl.__file__), ".libs", "libOpenCL*")))
        lib = ctypes.CDLL(libs[0]) if libs else ctypes.CDLL("libOpenCL.so.1")
        fn = lib.clGetDeviceInfo
        fn.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_size_t, ctypes.c_void_p,
                       ctypes.POINTER(ctypes.c_size_t)]
        fn.restype = ctypes.c_int32
        _CL_GET_DEVICE_INFO = fn
    return _CL_GET_DEVICE_INFO


def query_raw(cl_device, param: int) -> bytes | None:
    """The raw bytes of a device query, or None when the device does not know ``param``."""
    try:
        fn = _cl_get_device_info()
    except (OSError, AttributeError):
        return None
    size = ctypes.c_size_t(0)
    if fn(cl_device.int_ptr, param, 0, None, ctypes.byref(size)) != 0 or size.value == 0:
        return None
    if size.value > 4096:
        return None
    buf = (ctypes.c_ubyte * size.value)()
    if fn(cl_device.int_ptr, param, size.value, buf, None) != 0:
        return None
    return bytes(buf)


def _query_uint_array(cl_device, param: int, width: int) -> list[int]:
    raw = query_raw(cl_device, param)
    if raw is None:
        return []
    return [int.from_bytes(raw[i:i + width], "little") for i in range(0, len(raw) - width + 1, width)]


def _opencl_c_version(dev) -> str:
    """The device's own "OpenCL C x.y" string (PoCL 3.0 lists 3.0 among accepted versions but says 1.2 here)."""
    m = re.search(r"OpenCL C (\d+)\.(\d+)", dev.opencl_c_version or "")
    return f"{m.group(1)}.{m.group(2)}" if m else "1.2"


def _kind(dev) -> str:
    import pyopencl as cl

    t = dev.type
    if t & cl.device_type.GPU:
        return "gpu"
    if t & cl.device_type.CPU:
        return "cpu"
    if t & cl.device_type.ACCELERATOR:
        return "accelerator"
    return "other"


def describe_device(index: int, platform, dev) -> DeviceInfo:
    """Query one pyopencl device."""
    exts = frozenset((dev.extensions or "").split())
    sizes = _query_uint_array(dev, CL_DEVICE_SUB_GROUP_SIZES_INTEL, ctypes.sizeof(ctypes.c_size_t)) \
        if "cl_intel_required_subgroup_size" in exts else []
    dot = _query_uint_array(dev, CL_DEVICE_INTEGER_DOT_PRODUCT_CAPABILITIES_KHR, 4) \
        if "cl_khr_integer_dot_product" in exts else []
    feat = None
    if "cl_intel_device_attribute_query" in exts:
        vals = _query_uint_array(dev, CL_DEVICE_FEATURE_CAPABILITIES_INTEL, 8)
        feat = vals[0] if vals else 0
    return DeviceInfo(
        index=index,
        platform_name=platform.name.strip(),
        platform_version=platform.version.strip(),
        name=dev.name.strip(),
        vendor=dev.vendor.strip(),
        kind=_kind(dev),
        driver_version=dev.driver_version.strip(),
        opencl_c_version=_opencl_c_version(dev),
        extensions=exts,
        subgroup_sizes=tuple(sorted(set(sizes))),
        integer_dot_caps=dot[0] if dot else 0,
        feature_caps_intel=feat,
        global_mem_bytes=int(dev.global_mem_size),
        local_mem_bytes=int(dev.local_mem_size),
        max_alloc_bytes=int(dev.max_mem_alloc_size),
        compute_units=int(dev.max_compute_units),
        max_work_group_size=int(dev.max_work_group_size),
        cl_device=dev,
    )


_DEVICES: list[DeviceInfo] | None = None


def discover_devices(refresh: bool = False) -> list[DeviceInfo]:
    """Every OpenCL device of every platform (pip runtimes registered first), duplicates dropped.

    Returns an empty list when pyopencl or every runtime is missing.
    """
    global _DEVICES
    if _DEVICES is not None and not refresh:
        return _DEVICES
    register_runtimes()
    try:
        import pyopencl as cl

        platforms = cl.get_platforms()
    except Exception:  # noqa: BLE001 - no ICD at all raises PLATFORM_NOT_FOUND_KHR
        _DEVICES = []
        return _DEVICES
    seen, devices = set(), []
    for platform in platforms:
        if platform.int_ptr in seen:  # the same driver listed twice by the loader
            continue
        seen.add(platform.int_ptr)
        try:
            devs = platform.get_devices()
        except Exception:  # noqa: BLE001 - a driver with no device of its kind (GPU driver, no GPU)
            continue
        for dev in devs:
            devices.append(describe_device(len(devices), platform, dev))
    _DEVICES = devices
    return devices
