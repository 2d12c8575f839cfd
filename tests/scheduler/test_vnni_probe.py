"""When the 512-bit VNNI kernel is used: CPU flags, Intel's CPU runtime only, one probe per
device and driver (kept in memory and in the cache folder)."""

from __future__ import annotations

from types import SimpleNamespace

from gpu_int8.scheduler import vnni_probe


def _info(name: str, intel: bool = True) -> SimpleNamespace:
    return SimpleNamespace(is_gpu=False, is_intel_cpu_runtime=intel, name=name, platform_name="Intel(R) OpenCL",
                           driver_version="1.0", platform_version="OpenCL 3.0")


def test_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu sse avx512f avx512bw avx512vl avx512_vnni avx2\n")
    assert vnni_probe.cpu_has_vnni(cpuinfo)
    cpuinfo.write_text("processor : 0\nflags : fpu sse avx512f avx512bw avx512_vnni avx2\n")
    assert not vnni_probe.cpu_has_vnni(cpuinfo)  # the 8-lane form needs AVX-512 VL
    cpuinfo.write_text("processor : 0\nflags : fpu sse avx2 avx_vnni\n")
    assert not vnni_probe.cpu_has_vnni(cpuinfo)
    assert not vnni_probe.cpu_has_vnni(tmp_path / "missing")


def test_probe_runs_once_and_its_answer_is_kept(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(vnni_probe, "cpu_has_vnni", lambda: True)
    monkeypatch.setattr(vnni_probe, "_probe_in_child", lambda info: calls.append(info.name) or True)
    info = _info(f"probe-test-{tmp_path.name}")
    assert vnni_probe.vnni_supported(info, tmp_path) and vnni_probe.vnni_supported(info, tmp_path)
    assert calls == [info.name]
    markers = list(tmp_path.glob("vnni-probe*-*"))
    assert len(markers) == 1 and markers[0].read_text() == "ok\n"
    vnni_probe._answers.clear()  # a new process: the answer comes from the cache folder
    assert vnni_probe.vnni_supported(info, tmp_path) and calls == [info.name]
    markers[0].write_text("no\n")
    vnni_probe._answers.clear()
    assert not vnni_probe.vnni_supported(info, tmp_path)


def test_only_intel_cpu_runtime_with_vnni_is_probed(monkeypatch):
    monkeypatch.setattr(vnni_probe, "_probe_in_child", lambda info: (_ for _ in ()).throw(AssertionError(info)))
    monkeypatch.setattr(vnni_probe, "cpu_has_vnni", lambda: True)
    assert not vnni_probe.vnni_supported(_info("pocl", intel=False))
    monkeypatch.setattr(vnni_probe, "cpu_has_vnni", lambda: False)
    assert not vnni_probe.vnni_supported(_info("intel-without-vnni"))
