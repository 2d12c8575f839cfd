"""``python -m gpu_int8 inspect``: the schedule table, its summary line, JSON, and --compare."""

import json

import numpy as np
import pytest

from gpu_int8.cli.cmd_inspect import snr_and_cosine
from gpu_int8.cli.main import main
from gpu_int8.frontends.ir_writer import write_ir
from tests.lpt.dsl import Net

RNG = np.random.default_rng(2)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small NNCF-style IR: FakeQuantize, int8 conv + bias + relu, MatMul, Softmax."""
    net = Net().input("f32", [1, 3, 8, 8], name="image").fake_quantize(-2.56, 2.54, -2.56, 2.54)
    w = RNG.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8)
    net.op("Convolution", net.weights(w, np.full((4, 1, 1, 1), 0.01, np.float32)), strides=[2, 2],
           dilations=[1, 1], pads_begin=[1, 1], pads_end=[1, 1], auto_pad="explicit")
    net.op("Add", RNG.uniform(-0.1, 0.1, (1, 4, 1, 1)).astype(np.float32)).op("Relu").fake_quantize(0, 3.1, 0, 3.1)
    net.op("Reshape", np.array([1, 64]), special_zero=False)
    w2 = RNG.integers(-127, 128, (5, 64)).astype(np.int8)
    net.op("MatMul", net.weights(w2, np.full((5, 1), 0.02, np.float32)), transpose_b=True)
    graph = net.op("Softmax", axis=1).build()
    path = tmp_path_factory.mktemp("inspect") / "model.xml"
    write_ir(graph, path)
    return path


def test_prints_each_step_and_the_summary(model, capsys):
    assert main(["inspect", "-m", str(model)]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = {line.split()[2]: line for line in out[2:-1]}  # kind -> row
    assert "Convolution+Add+Relu+FakeQuantize" in rows["conv"] and " I8 " in rows["conv"]
    assert " U8 " in rows["matmul"] and " FP32 " in rows["float"] and "Softmax has no int8 form" in rows["float"]
    # Reshape moves data and is not counted; conv and matmul run in int8
    assert out[-1].startswith("2 of 3 compute layers in INT8; float layers: Softmax(")


def test_json_and_compare(model, tmp_path, capsys):
    x = RNG.standard_normal((1, 3, 8, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert main(["inspect", "-m", str(model), "--json", "--compare", "-i", str(tmp_path / "x.npy")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["int8"] == 2 and doc["summary"]["float_layers"][0]["op"] == "Softmax"
    kinds = [s["kind"] for s in doc["steps"]]
    assert kinds == ["quantize", "conv", "move", "matmul", "float"]
    for step in doc["steps"]:
        assert step["cosine"] > 0.999  # int8 vs the FakeQuantize graph on a real-valued input
    conv = doc["steps"][1]
    assert conv["precision"] == "I8" and conv["epilogue"] == ["affine", "round"]


def test_bad_input_file_is_a_clear_error(model, tmp_path, capsys):
    np.save(tmp_path / "wrong.npy", np.zeros((1, 3, 4, 4), np.float32))
    assert main(["inspect", "-m", str(model), "--compare", "-i", str(tmp_path / "wrong.npy")]) == 2
    assert "needs [1, 3, 8, 8]" in capsys.readouterr().err


def test_snr_and_cosine():
    x = np.array([3.0, 4.0])
    assert snr_and_cosine(x, x) == (float("inf"), 1.0)
    snr, cos = snr_and_cosine(x + np.array([0.05, 0.0]), x)
    assert snr == pytest.approx(10 * np.log10(25 / 0.0025)) and 0.999 < cos < 1


def test_compare_against_the_float_model_before_quantization(tmp_path, capsys):
    from gpu_int8.quantization import quantize
    from tests.quantization.graphs import feeds, small_cnn

    write_ir(small_cnn(), tmp_path / "float.xml")
    quantize(tmp_path / "float.xml", feeds(8), tmp_path / "int8.xml")
    np.save(tmp_path / "x.npy", feeds(1, seed=9)[0]["x"])
    args = ["inspect", "-m", str(tmp_path / "int8.xml"), "--json", "--compare", "-i", str(tmp_path / "x.npy")]

    def figures(extra):
        assert main([*args, *extra]) == 0
        return {s["name"]: (s.get("snr_db"), s.get("cosine")) for s in json.loads(capsys.readouterr().out)["steps"]}

    against_fq, against_float = figures([]), figures(["--float-model", str(tmp_path / "float.xml")])
    # quantizing the input matches the FakeQuantize graph (to float32 rounding of the
    # dequantized values), and loses a little against the float input
    assert against_fq["x/fq"][0] > 100
    snr, cosine = against_float["x/fq"]
    assert 25 < snr < 60 and 0.99 < cosine < 1
    # every step is matched to a float model value through its FakeQuantize
    assert all(v[1] is not None for v in against_float.values()), against_float
    assert all(v[1] > 0.95 for v in against_float.values())


def test_float_model_needs_compare_and_matching_inputs(model, tmp_path, capsys):
    assert main(["inspect", "-m", str(model), "--float-model", str(model)]) == 2
    assert "give --compare too" in capsys.readouterr().err
    other = Net().input("f32", [1, 3, 8, 8], name="other").op("Relu").build()
    write_ir(other, tmp_path / "other.xml")
    assert main(["inspect", "-m", str(model), "--compare", "--float-model", str(tmp_path / "other.xml")]) == 2
    assert "the model's inputs are ['other']" in capsys.readouterr().err
