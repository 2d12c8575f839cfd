"""Config loading: defaults, the shipped YAML files, and errors that name the key."""

from pathlib import Path

import pytest

from gpu_int8.config import Config, load_config
from gpu_int8.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert cfg.device and cfg.precision in ("int8", "fp32")


def test_defaults_and_passthrough():
    cfg = load_config(None)
    assert (cfg.device, cfg.kernels, cfg.precision) == ("auto", "auto", "int8")
    assert load_config(cfg) is cfg
    assert isinstance(load_config({"device": "reference"}), Config)


def test_preprocess_lookup_falls_back_to_star():
    cfg = load_config({"inputs": {"*": {"mean": 1.0}, "x": {"scale": [2, 2, 2]}}})
    assert cfg.preprocess_for("x").scale == [2.0, 2.0, 2.0]
    assert cfg.preprocess_for("other").mean == [1.0]


@pytest.mark.parametrize("data, key", [
    ({"devic": "auto"}, "devic"),
    ({"precision": "int4"}, "precision"),
    ({"kernels": "cuda"}, "kernels"),
    ({"device": 3}, "device"),
    ({"profiling": "yes"}, "profiling"),
    ({"shapes": {"x": [1, 0, 3]}}, "shapes.x"),
    ({"inputs": {"x": {"mean": "zero"}}}, "inputs.x.mean"),
    ({"inputs": {"x": {"scale": [0, 1, 1]}}}, "inputs.x.scale"),
    ({"inputs": {"x": {"mean": [1, 2]}}}, "inputs.x.mean"),
    ({"inputs": {"x": {"layout": "CHW"}}}, "inputs.x.layout"),
    ({"inputs": {"x": {"resise": "stretch"}}}, "inputs.x.resise"),
])
def test_bad_values_name_the_key(data, key):
    with pytest.raises(ConfigError, match=f"key '{key}'"):
        load_config(data)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("device: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(bad)
