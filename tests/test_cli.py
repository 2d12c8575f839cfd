"""The command line as a user runs it: the embedded demo, infer on files, clear errors."""

import subprocess
import sys

import numpy as np
import pytest

from gpu_int8 import demo
from gpu_int8.cli.main import main


def test_embedded_demo_gets_the_orientation_right():
    proc = subprocess.run([sys.executable, "-m", "gpu_int8", "infer"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if "-> orientation" in ln]
    assert len(lines) == 2
    assert "orientation   0 degrees" in lines[0] and "upright" in lines[0]
    assert "orientation 180 degrees" in lines[1] and "rotated" in lines[1]
    assert "device:" in proc.stdout and "int8)" in proc.stdout  # the device line names the precision
    assert "74 of 75 compute layers in INT8; float layers: Softmax" in proc.stdout


def test_infer_npy_and_output_dir_never_overwrites(tmp_path, capsys):
    x = np.zeros(demo.CLS_SHAPE, np.float32)
    np.save(tmp_path / "x.npy", x)
    args = ["infer", "-m", str(demo.cls_model_path()), "--shape", "x=1,3,48,192", "-i", str(tmp_path / "x.npy"),
            "-o", str(tmp_path / "out")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "top-2" in out
    assert "compute layers runs in int8" in out and "gpu_int8 quantize -m" in out  # a float model
    saved = list((tmp_path / "out").glob("*.npy"))
    assert len(saved) == 1 and np.load(saved[0]).shape == (1, 2)
    before = saved[0].read_bytes()
    assert main(args) == 2
    assert "exists already" in capsys.readouterr().err
    assert saved[0].read_bytes() == before


@pytest.mark.parametrize("argv, message", [
    (["infer", "-m", "missing.onnx"], "missing.onnx"),
    (["infer", "-m", "{cls}", "--shape", "x=1,3,a"], "--shape 'x=1,3,a'"),
    (["infer", "-m", "{cls}"], "dynamic shape"),
    (["infer", "-m", "{cls}", "--shape", "x=1,3,48,192", "-i", "nothing.png"], "nothing.png does not exist"),
    (["infer", "-i", "a.png"], "need -m MODEL"),
])
def test_clear_errors(argv, message, capsys):
    argv = [a.replace("{cls}", str(demo.cls_model_path())) for a in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_quantize_a_float_model_then_run_it(tmp_path, capsys):
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        np.save(calibration / f"line{i}.npy", rng.uniform(-1, 1, demo.CLS_SHAPE).astype(np.float32))
    (calibration / "notes.txt").write_text("not an input")  # ignored: neither an image nor .npy
    out = tmp_path / "cls_int8.xml"
    args = ["quantize", "-m", str(demo.cls_model_path()), "--shape", "x=1,3,48,192", "-d", str(calibration),
            "-o", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "calibration inputs: 3" in printed and "folded first: 18 written-out HSwish" in printed
    corrected = int(printed.split("biases corrected for the mean shift of quantization: ")[1].split()[0])
    assert corrected > 0
    assert "inspect -m" in printed and "--compare --float-model" in printed  # what to do next
    assert out.is_file() and out.with_suffix(".bin").is_file()
    before = out.read_bytes()
    assert main(args) == 2  # the result of the first run is not overwritten ...
    assert "exists; choose another output" in capsys.readouterr().err
    assert out.read_bytes() == before
    assert main([*args, "--overwrite", "--subset", "1", "--no-bias-correction"]) == 0  # ... unless asked
    printed = capsys.readouterr().out
    assert "calibration inputs: 1" in printed and "quantization: 0" in printed
    assert main(["inspect", "-m", str(out)]) == 0
    assert "compute layers in INT8; float layers: Softmax" in capsys.readouterr().out
    assert main(["infer", "-m", str(out), "-i", str(calibration / "line0.npy")]) == 0
    printed = capsys.readouterr().out
    assert "top-2" in printed and "none of the" not in printed  # quantized: no advice to quantize
    kept = [*args[:-1], str(tmp_path / "kept.xml"), "--subset", "1", "--ignore", "Conv@0"]
    assert main(kept) == 0
    assert "left in float: Conv@0 (kept float on request)" in capsys.readouterr().out
    assert main([*kept[:-1], "Conv@99", "--overwrite"]) == 2
    assert "no node named 'Conv@99' to keep float" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["quantize", "-m", "{cls}", "--shape", "x=1,3,48,192", "-o", "{tmp}/q.xml"], "no calibration inputs"),
    (["quantize", "-m", "{cls}", "-d", "{tmp}/none", "-o", "{tmp}/q.xml"], "calibration folder"),
    (["quantize", "-m", "{cls}", "-d", "{tmp}", "-o", "{tmp}/q.xml"], "holds no image or .npy file"),
    (["quantize", "-m", "{cls}", "-i", "a.npy", "-o", "{tmp}/q.onnx"], "must be an OpenVINO IR .xml path"),
    (["quantize", "-m", "{cls}", "-i", "a.npy", "-o", "{tmp}/q.xml", "--subset", "0"], "--subset 0"),
    (["quantize", "-m", "{cls}", "-i", "{tmp}/missing.npy", "-o", "{tmp}/q.xml", "--shape", "x=1,3,48,192"],
     "missing.npy does not exist"),
])
def test_quantize_clear_errors(argv, message, tmp_path, capsys):
    argv = [a.replace("{cls}", str(demo.cls_model_path())).replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "q.xml").exists()


def test_benchmark_prints_latency_and_writes_benchmark_app_reports(tmp_path, capsys):
    args = ["benchmark", "-m", str(demo.cls_model_path()), "--shape", "x=1,3,48,192", "-niter", "4"]
    assert main([*args, "-pc", "-report_type", "average_counters", "-report_folder", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Count:            4 iterations" in out and "Throughput:" in out and "Median:" in out
    assert "per inference, over 4 iterations" in out  # -pc: the per-step table
    report = (tmp_path / "benchmark_report.csv").read_text()
    assert "Execution results" in report and "count;4" in report
    counters = (tmp_path / "benchmark_average_counters_report.csv").read_text().splitlines()
    assert counters[0].startswith("layerName;execStatus;layerType;execType;realTime (ms)")
    assert len(counters) > 10 and all(";EXECUTED;" in line for line in counters[1:])
    before = report
    assert main([*args, "-report_type", "no_counters", "-report_folder", str(tmp_path)]) == 2
    assert "exists; choose another -report_folder" in capsys.readouterr().err
    assert (tmp_path / "benchmark_report.csv").read_text() == before


def test_benchmark_profiling_config_prints_the_step_table(tmp_path, capsys):
    config = tmp_path / "profiling.yaml"
    config.write_text(f"profiling: true\ncache_dir: {tmp_path / 'cache'}\n")
    argv = ["benchmark", "-m", str(demo.cls_model_path()), "--shape", "x=1,3,48,192", "-c", str(config),
            "-niter", "2"]
    assert main(argv) == 0
    assert "per inference, over 2 iterations" in capsys.readouterr().out


def test_benchmark_on_the_reference_executor_has_no_counters(tmp_path, capsys):
    config = tmp_path / "ref.yaml"
    config.write_text("device: reference\n")
    argv = ["benchmark", "-m", str(demo.cls_model_path()), "--shape", "x=1,3,48,192", "-c", str(config),
            "-niter", "2", "-pc"]
    assert main(argv) == 0
    assert "no per-step counters" in capsys.readouterr().out


@pytest.mark.parametrize("flags, message", [(["-niter", "0"], "-niter 0"), (["-t", "-1"], "-t -1.0")])
def test_benchmark_clear_errors(flags, message, capsys):
    assert main(["benchmark", "-m", str(demo.cls_model_path()), "--shape", "x=1,3,48,192", *flags]) == 2
    assert message in capsys.readouterr().err
