"""Runtime registration, capability discovery, device selection, the program binary cache, ``devices``."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpu_int8.errors import ConfigError
from gpu_int8.scheduler.devices import DeviceInfo, discover_devices
from gpu_int8.scheduler.program_cache import ProgramCache, kernel_source
from gpu_int8.scheduler.runtimes import intel_cpu_runtime_library, pocl_libraries
from gpu_int8.scheduler.selection import select_device
from tests.cl_devices import cl_device_for

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import json
from gpu_int8.scheduler.devices import discover_devices
print(json.dumps([[d.platform_name, d.name, d.supports_intel_family, list(d.subgroup_sizes), d.platform_version]
                  for d in discover_devices()]))
"""


def test_runtimes_found_without_environment_variables(tmp_path):
    """A fresh process with no OpenCL variables sees every installed CPU runtime, each once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OCL_", "POCL_"))}
    env["XDG_CACHE_HOME"] = str(tmp_path)  # the vendors folder is written from scratch
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    devices = json.loads(out.strip().splitlines()[-1])
    platforms = [d[0] for d in devices]
    versions = [(d[0], d[4]) for d in devices]
    assert len(versions) == len(set(versions)), f"a platform is listed twice: {versions}"
    if intel_cpu_runtime_library() is None:
        pytest.skip("Intel CPU runtime (intel-opencl-rt) not installed")
    intel = [d for d in devices if "Intel" in d[0]]
    assert intel, f"Intel CPU runtime not registered: {devices}"
    assert intel[0][2] is True and 8 in intel[0][3] and 16 in intel[0][3]
    if pocl_libraries():
        assert any("Portable Computing Language" in p for p in platforms)
    icd = list((tmp_path / "gpu_int8" / "opencl_vendors").glob("*/*.icd"))
    assert any(p.read_text().strip() == str(intel_cpu_runtime_library()) for p in icd)


def test_system_vendor_entries_are_kept():
    """The private vendors folder carries the system's entries, so a real GPU driver stays visible."""
    from gpu_int8.scheduler.runtimes import SYSTEM_VENDORS_DIR, register_runtimes

    system = sorted(p.read_text().strip() for p in SYSTEM_VENDORS_DIR.glob("*.icd")) \
        if SYSTEM_VENDORS_DIR.is_dir() else []
    reg = register_runtimes()
    if reg.vendors_dir is None:
        pytest.skip("; ".join(reg.notes))
    assert set(system) <= set(reg.entries.values())


def test_intel_cpu_runtime_capabilities():
    dev = cl_device_for("intel-cpu").info
    assert dev.has_subgroups and dev.supports_intel_family
    assert "cl_intel_subgroups_char" in dev.extensions
    assert {8, 16} <= set(dev.subgroup_sizes)
    assert dev.has_integer_dot_product and dev.integer_dot_caps & 1
    assert dev.feature_caps_intel is not None and not dev.has_dp4a  # a CPU: no hardware dp4a flag
    assert dev.cl_std_option == "-cl-std=CL3.0"
    assert dev.global_mem_bytes > 0 and dev.local_mem_bytes > 0


def test_pocl_capabilities():
    dev = cl_device_for("pocl").info
    assert not dev.supports_intel_family and not dev.has_subgroups
    assert dev.feature_caps_intel is None and dev.subgroup_sizes == ()


# -- selection, on made-up device lists --------------------------------------------------------

def _fake(index, kind, platform, name, *, intel_ext=False, dp4a=False):
    exts = frozenset(["cl_intel_subgroups", "cl_intel_subgroups_char", "cl_intel_required_subgroup_size",
                      "cl_intel_device_attribute_query"] if intel_ext else [])
    return DeviceInfo(index=index, platform_name=platform, platform_version="OpenCL 3.0", name=name,
                      vendor="Intel(R) Corporation" if "Intel" in platform else "other", kind=kind,
                      driver_version="1", opencl_c_version="3.0" if intel_ext else "1.2", extensions=exts,
                      subgroup_sizes=(8, 16, 32) if intel_ext else (), integer_dot_caps=0,
                      feature_caps_intel=(1 if dp4a else 0) if intel_ext else None, global_mem_bytes=1 << 30,
                      local_mem_bytes=65536, max_alloc_bytes=1 << 28, compute_units=2, max_work_group_size=256)


POCL = _fake(0, "cpu", "Portable Computing Language", "pthread-cpu")
INTEL_CPU = _fake(1, "cpu", "Intel(R) OpenCL", "cpu", intel_ext=True)
OTHER_GPU = _fake(2, "gpu", "NVIDIA CUDA", "H100")
IRIS = _fake(3, "gpu", "Intel(R) OpenCL Graphics", "Intel(R) Iris(R) Xe Graphics", intel_ext=True, dp4a=True)


def test_auto_order():
    assert select_device("auto", devices=[POCL, INTEL_CPU, OTHER_GPU, IRIS]).device is IRIS
    assert select_device("auto", devices=[POCL, INTEL_CPU, OTHER_GPU, IRIS]).family == "intel"
    choice = select_device("auto", devices=[POCL, INTEL_CPU, OTHER_GPU])
    assert choice.device is OTHER_GPU and choice.family == "portable"
    choice = select_device("auto", devices=[POCL, INTEL_CPU])
    assert choice.device is INTEL_CPU and choice.family == "portable"  # faster than the Intel family on a CPU
    choice = select_device("auto", "intel", devices=[POCL, INTEL_CPU])
    assert choice.device is INTEL_CPU and choice.family == "intel" and choice.subgroup_size == 16
    choice = select_device("auto", devices=[POCL])
    assert choice.device is POCL and choice.family == "portable"
    choice = select_device("auto", devices=[])
    assert choice.device is None and choice.family == "reference" and "no OpenCL device" in choice.reason


def test_intel_gpu_without_dp4a_is_not_first_tier():
    old_gen = dataclasses.replace(IRIS, index=4, feature_caps_intel=0, name="Intel(R) UHD Graphics 630")
    choice = select_device("auto", devices=[old_gen])
    assert choice.family == "portable" and "dp4a" in choice.reason


def test_explicit_specs_and_families():
    devs = [POCL, INTEL_CPU, OTHER_GPU]
    assert select_device("cpu", devices=devs).device is INTEL_CPU
    assert select_device("gpu", devices=devs).device is OTHER_GPU
    assert select_device("portable computing", devices=devs).device is POCL
    assert select_device("cpu", "portable", devices=devs).family == "portable"
    assert select_device("reference", devices=devs).family == "reference"
    # kernels: intel skips devices without the extensions under auto, and refuses them by name
    assert select_device("auto", "intel", devices=[OTHER_GPU, POCL, INTEL_CPU]).device is INTEL_CPU
    with pytest.raises(ConfigError, match="kernels: 'intel' needs cl_intel_subgroups"):
        select_device("pthread", "intel", devices=devs)
    with pytest.raises(ConfigError, match="device: no OpenCL device matches 'tpu'"):
        select_device("tpu", devices=devs)
    with pytest.raises(ConfigError, match="kernels: 'fast'"):
        select_device("auto", "fast", devices=devs)
    for choice in (select_device("auto", devices=devs), select_device("reference")):
        assert choice.reason and choice.describe()


def test_real_auto_choice_is_reported():
    choice = select_device("auto")
    assert choice.reason
    if any(d.is_intel_cpu_runtime for d in discover_devices()):
        assert choice.device.is_intel_cpu_runtime and choice.family == "portable"


# -- program cache ------------------------------------------------------------------------------

# a small kernel of the test's own: NCHW -> NHWC of a 1x3x2x2 int tensor
NCHW_TO_NHWC = """
__kernel void reorder(__global const int *src, __global int *dst)
{
    const int i = get_global_id(0);  /* NCHW index */
    const int c = i / (H * W), hw = i % (H * W);
    dst[hw * C + c] = src[i];
}
"""


@pytest.mark.parametrize("runtime", ["intel-cpu", "pocl"])
def test_second_build_loads_the_binary(tmp_path, runtime):
    import numpy as np
    import pyopencl as cl

    dev = cl_device_for(runtime)
    source = NCHW_TO_NHWC
    opts = "-cl-std=CL1.2 -DC=3 -DH=2 -DW=2"
    cache = ProgramCache(tmp_path)
    cache.build(dev.context, dev.info.cl_device, source, opts)
    assert (cache.compiled, cache.loaded) == (1, 0)
    assert len(list(tmp_path.glob("*.bin"))) == 1
    again = ProgramCache(tmp_path)  # a new process would start like this
    prg = again.build(dev.context, dev.info.cl_device, source, opts)
    assert (again.compiled, again.loaded) == (0, 1)
    # the loaded binary runs
    x = np.arange(12, dtype=np.int32)
    src = cl.Buffer(dev.context, cl.mem_flags.READ_ONLY | cl.mem_flags.COPY_HOST_PTR, hostbuf=x)
    dst = cl.Buffer(dev.context, cl.mem_flags.WRITE_ONLY, x.nbytes)
    prg.reorder(dev.queue, (12,), None, src, dst)
    y = np.empty_like(x)
    cl.enqueue_copy(dev.queue, y, dst)
    np.testing.assert_array_equal(y, x.reshape(1, 3, 2, 2).transpose(0, 2, 3, 1).ravel())
    # other options or other source text: another entry
    again.build(dev.context, dev.info.cl_device, source, opts.replace("-DC=3", "-DC=4"))
    assert again.compiled == 1 and len(list(tmp_path.glob("*.bin"))) == 2


def test_corrupt_cache_entry_is_rebuilt(tmp_path):
    dev = cl_device_for("intel-cpu")
    source, opts = kernel_source("plan_softmax.cl"), "-cl-std=CL1.2 -DROWS=2 -DAXIS_LEN=10 -DINNER=1 -DWG=4"
    cache = ProgramCache(tmp_path)
    key = cache.key(dev.info.cl_device, source, opts)
    (tmp_path / f"{key}.bin").write_bytes(b"not a binary")
    cache.build(dev.context, dev.info.cl_device, source, opts)
    assert cache.compiled == 1 and (tmp_path / f"{key}.bin").stat().st_size > 100


def test_build_error_names_the_problem(tmp_path):
    from gpu_int8.scheduler.program_cache import BuildError

    dev = cl_device_for("intel-cpu")
    with pytest.raises(BuildError, match="OpenCL build failed"):
        ProgramCache(tmp_path).build(dev.context, dev.info.cl_device, "__kernel void k() { nonsense; }", "")


# -- the devices command --------------------------------------------------------------------

def test_devices_command_lists_devices_and_auto_choice():
    proc = subprocess.run([sys.executable, "-m", "gpu_int8", "devices"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "device: auto, kernels: auto ->" in out
    for d in discover_devices():
        assert d.name in out
    if any(d.is_intel_cpu_runtime for d in discover_devices()):
        assert "cl_intel_subgroups: yes" in out and "also runs: intel family, subgroup size 16" in out
    if any(d.is_pocl for d in discover_devices()):
        assert "kernel family: portable" in out


def test_devices_command_bad_spec_exits_2():
    proc = subprocess.run([sys.executable, "-m", "gpu_int8", "devices", "--device", "no-such-device"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no OpenCL device matches 'no-such-device'" in proc.stdout


# -- the backend ----------------------------------------------------------------------------------

def test_backend_allocator_program_and_profiling(any_device):
    import numpy as np

    alloc = any_device.allocator
    x = np.arange(40, dtype=np.float32).reshape(2, 20)
    buf = alloc.from_numpy(x)
    np.testing.assert_array_equal(alloc.to_numpy(buf, x.shape, np.float32), x)
    out = alloc.alloc(x.nbytes)
    shape = {"ROWS": 2, "AXIS_LEN": 20, "INNER": 1, "WG": 2}
    prog = any_device.program("plan_softmax.cl", "softmax", shape, ["-cl-std=CL1.2"])
    again = any_device.program("plan_softmax.cl", "softmax", shape, ["-cl-std=CL1.2"])
    assert again.kernel.program.int_ptr == prog.kernel.program.int_ptr  # built once per device
    launch = prog(out, buf, global_size=(3,), local_size=(2,))  # rounded up to (4,): a group per row
    assert launch.seconds() > 0
    y = alloc.to_numpy(out, x.shape, np.float32)
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-6)
    assert y[0, -1] > y[0, 0]
