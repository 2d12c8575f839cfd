"""``devices``: every OpenCL device with the capabilities that matter for int8, the kernel
family it gets, and what ``device: auto`` chooses.  With ``--offline tgllp|dg1``, compile
the Intel-family kernels for that Intel GPU with ``ocloc`` (no GPU needed) and show each
kernel's SIMD width, dp4a count (whole kernel and innermost loop) and spills."""

from __future__ import annotations

import argparse
import sys

from gpu_int8.errors import ConfigError


def add_parser(sub) -> None:
    from gpu_int8.scheduler.offline import OFFLINE_DEVICES

    p = sub.add_parser("devices", help="list OpenCL devices, their int8 capabilities and the auto choice",
                       description=__doc__)
    p.add_argument("--device", default="auto", help="device spec to resolve: auto|gpu|cpu|reference|NAME "
                                                    "(default: auto)")
    p.add_argument("--kernels", default="auto", choices=("auto", "intel", "portable"),
                   help="kernel family to resolve with --device (default: auto)")
    p.add_argument("--offline", choices=OFFLINE_DEVICES, metavar="{" + ",".join(OFFLINE_DEVICES) + "}",
                   help="compile the Intel-family kernels with ocloc for this Intel GPU and show their ISA")
    p.add_argument("--no-khr-dot", action="store_true",
                   help="with --offline, skip the cl_khr_integer_dot_product builtin variants")
    p.set_defaults(run=run)


def describe_devices(devices, registration) -> list[str]:
    """Text lines for every device: capabilities and the family it gets under kernels=auto."""
    from gpu_int8.scheduler.selection import intel_subgroup_size, kernel_family

    lines = []
    if registration.vendors_dir is not None:
        lines.append(f"OpenCL vendors folder: {registration.vendors_dir} "
                     f"({', '.join(sorted(registration.entries.values()))})")
    for note in registration.notes:
        lines.append(f"note: {note}")
    if not devices:
        lines.append("no OpenCL device found")
    for d in devices:
        lines.append(f"[{d.index}] {d.name}")
        lines.append(f"    platform: {d.platform_name} ({d.platform_version})")
        lines.extend(f"    {ln}" for ln in d.capability_lines())
        family, why = kernel_family(d, "auto")
        sg = f", subgroup size {intel_subgroup_size(d)}" if family == "intel" else ""
        lines.append(f"    kernel family: {family}{sg} ({why})")
        if family != "intel" and d.supports_intel_family:
            lines.append(f"    also runs: intel family, subgroup size {intel_subgroup_size(d)} (kernels: intel)")
        if family == "portable" and not d.is_gpu:
            lines.append(f"    portable GEMM kernels: {portable_gemms(d)}")
    return lines


def portable_gemms(d) -> str:
    """Which GEMM kernels the portable family uses on a CPU device (the 512-bit VNNI one after a probe)."""
    from gpu_int8.scheduler.program_cache import ProgramCache
    from gpu_int8.scheduler.vnni_probe import cpu_has_vnni, vnni_supported

    if vnni_supported(d, ProgramCache().directory):  # where engines keep the probe's answer by default
        return "vnni (512-bit vpdpbusd, probed) for one-group convolutions; dot / float32 blocks for the others"
    why = ("this CPU has no AVX-512 VNNI" if not cpu_has_vnni() else
           "only Intel's CPU runtime builds it" if not d.is_intel_cpu_runtime else "the probe build failed")
    return f"dot (128-bit dot products) and float32 blocks; no vnni: {why}"


def run(args: argparse.Namespace) -> int:
    from gpu_int8.scheduler.devices import discover_devices
    from gpu_int8.scheduler.runtimes import register_runtimes
    from gpu_int8.scheduler.selection import select_device

    registration = register_runtimes()
    devices = discover_devices()
    for line in describe_devices(devices, registration):
        print(line)
    try:
        choice = select_device(args.device, args.kernels, devices=devices)
        print(f"device: {args.device}, kernels: {args.kernels} -> {choice.describe()}")
    except ConfigError as exc:
        print(f"device: {args.device}, kernels: {args.kernels} -> error: {exc}")
        if not args.offline:
            return 2
    if args.offline:
        return _offline(args.offline, not args.no_khr_dot)
    return 0


def _offline(target: str, include_khr_dot: bool) -> int:
    from gpu_int8.scheduler.offline import check_intel_family, find_ocloc

    if find_ocloc() is None:
        print("error: ocloc not found; it comes with Debian's intel-opencl-icd package", file=sys.stderr)
        return 2
    print(f"\nIntel-family kernels compiled for {target} with ocloc:")
    try:
        reports = check_intel_family(target, include_khr_dot)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for r in reports:
        print("  " + r.line())
    return 0
