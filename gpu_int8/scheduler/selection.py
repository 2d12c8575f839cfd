"""Choose the device and kernel family to run on, and say why.

``auto`` tries, in order: an Intel GPU with subgroups and dp4a (Intel family) ->
another OpenCL GPU (portable family) -> an OpenCL CPU device (portable family:
Intel's CPU runtime also runs the Intel family, which is how it is tested, but
with no dp4a on a CPU the portable kernels are 2-5x faster there) -> the NumPy
reference executor.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .devices import DeviceInfo, discover_devices

DEVICE_SPECS = ("auto", "gpu", "cpu", "reference")
KERNEL_FAMILIES = ("auto", "intel", "portable")


@dataclass
class DeviceChoice:
    """The device (None for the NumPy reference), the kernel family and the reason, as text."""

    device: DeviceInfo | None
    family: str  # "intel", "portable" or "reference"
    reason: str
    subgroup_size: int | None = None  # Intel family only

    def describe(self) -> str:
        where = "NumPy reference executor" if self.device is None else self.device.label()
        sg = f", subgroup size {self.subgroup_size}" if self.subgroup_size else ""
        return f"{where}: {self.family} kernels{sg} ({self.reason})"


def _is_intel_gpu(d: DeviceInfo) -> bool:
    return d.is_gpu and "intel" in (d.vendor + d.platform_name).lower()


def _rank(d: DeviceInfo) -> tuple[int, int]:
    """Lower is better: the auto order, then discovery order."""
    if _is_intel_gpu(d) and d.supports_intel_family and d.has_dp4a:
        tier = 0
    elif d.is_gpu:
        tier = 1
    elif d.kind == "cpu" and d.is_intel_cpu_runtime and d.supports_intel_family:
        tier = 2
    elif d.kind == "cpu":
        tier = 3
    else:
        tier = 4
    return tier, d.index


def _auto_family(d: DeviceInfo) -> tuple[str, str]:
    if _is_intel_gpu(d) and d.supports_intel_family and d.has_dp4a:
        return "intel", "Intel GPU with subgroups and dp4a"
    if d.kind == "cpu":
        return "portable", ("CPU device: portable kernels are faster than the Intel family without dp4a "
                            "(kernels: intel forces it)")
    if d.is_gpu:
        what = "GPU without Intel subgroups" if not d.supports_intel_family else "GPU without the dp4a feature flag"
        return "portable", what
    return "portable", "no Intel subgroup extensions"


def kernel_family(d: DeviceInfo, kernels: str = "auto") -> tuple[str, str]:
    """(family, why) for device ``d`` under ``kernels`` (auto|intel|portable); ConfigError if impossible."""
    if kernels == "auto":
        return _auto_family(d)
    if kernels == "intel":
        if not d.supports_intel_family:
            missing = [e for e in ("cl_intel_subgroups", "cl_intel_subgroups_char",
                                   "cl_intel_required_subgroup_size") if e not in d.extensions]
            raise ConfigError(f"kernels: 'intel' needs {', '.join(missing) or 'subgroup size 8 or 16'}, "
                              f"which {d.label()} lacks")
        return "intel", "requested (kernels: intel)"
    return "portable", "requested (kernels: portable)"


def intel_subgroup_size(d: DeviceInfo) -> int:
    """The Intel family's subgroup size on ``d``: 16 where supported (one fsv16 block per subgroup), else 8."""
    sizes = d.intel_family_subgroup_sizes
    return 16 if 16 in sizes else sizes[0]


def _choice(d: DeviceInfo, kernels: str, why_device: str) -> DeviceChoice:
    family, why_family = kernel_family(d, kernels)
    sg = intel_subgroup_size(d) if family == "intel" else None
    return DeviceChoice(d, family, f"{why_device}; {family} kernels: {why_family}", sg)


def select_device(device_spec: str = "auto", kernels: str = "auto",
                  devices: list[DeviceInfo] | None = None) -> DeviceChoice:
    """Pick a device for ``device_spec`` (auto|gpu|cpu|reference|substring of a device/platform name) and ``kernels``.

    ``devices`` defaults to :func:`discover_devices`; tests pass their own list.
    Raises :class:`ConfigError` (naming the field) when nothing matches.
    """
    spec = (device_spec or "auto").strip()
    kernels = (kernels or "auto").strip().lower()
    if kernels not in KERNEL_FAMILIES:
        raise ConfigError(f"kernels: '{kernels}' is not one of {', '.join(KERNEL_FAMILIES)}")
    if spec.lower() == "reference":
        return DeviceChoice(None, "reference", "requested (device: reference)")
    devs = discover_devices() if devices is None else devices
    ordered = sorted(devs, key=_rank)
    low = spec.lower()
    if low == "auto":
        for d in ordered:
            try:
                return _choice(d, kernels, f"auto: first in order GPU(Intel, dp4a) > GPU > CPU, "
                                           f"{len(devs)} OpenCL device(s) found")
            except ConfigError:
                continue  # kernels: intel on a device without the extensions: try the next one
        why = "no OpenCL device found" if not devs else f"no OpenCL device runs kernels: {kernels}"
        return DeviceChoice(None, "reference", f"auto: {why}; NumPy reference executor")
    if low in ("gpu", "cpu"):
        matches = [d for d in ordered if d.kind == low]
        what = f"device: {low}"
    else:
        matches = [d for d in ordered
                   if any(low in t.lower() for t in (d.name, d.platform_name, d.platform_version, d.vendor))]
        what = f"device: '{spec}' matched by name"
    if not matches:
        names = "; ".join(d.label() for d in devs) or "none"
        raise ConfigError(f"device: no OpenCL device matches '{spec}' (devices: {names})")
    errors = []
    for d in matches:
        try:
            return _choice(d, kernels, what)
        except ConfigError as exc:
            errors.append(str(exc))
    raise ConfigError(errors[0])


def fallback_choices(choice: DeviceChoice, device_spec: str = "auto", kernels: str = "auto",
                     devices: list[DeviceInfo] | None = None) -> list[DeviceChoice]:
    """What to try, in order, when ``choice``'s plan does not build: the portable family on the same
    device (unless ``kernels`` forces a family), then for ``device: auto`` every other device in
    the auto order with the family it would get.  The NumPy reference comes after these."""
    if choice.device is None:
        return []
    kernels = (kernels or "auto").strip().lower()
    out = []
    if choice.family == "intel" and kernels == "auto":
        out.append(DeviceChoice(choice.device, "portable", "fallback: portable kernels on the same device"))
    if (device_spec or "auto").strip().lower() == "auto":
        devs = discover_devices() if devices is None else devices
        for d in sorted(devs, key=_rank):
            if d.index == choice.device.index:
                continue
            try:
                out.append(_choice(d, kernels, "fallback: the next device in the auto order"))
            except ConfigError:
                continue
    return out
