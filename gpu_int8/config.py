"""Engine configuration: loaded from YAML, a dict, or built in code; every field checked.

A bad value raises ConfigError naming the key, e.g. ``inputs.x.mean``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gpu_int8.errors import ConfigError

DEVICE_KEYWORDS = ("auto", "gpu", "cpu", "reference")
KERNEL_FAMILIES = ("auto", "intel", "portable")
PRECISIONS = ("int8", "fp32")
LAYOUTS = ("NCHW", "NHWC")
COLORS = ("RGB", "BGR", "GRAY")
RESIZES = ("stretch", "keep_ratio_pad", "fit_height_pad_right", "none")


@dataclass
class InputPreprocess:
    """How an image becomes this input's tensor: ``(pixel - mean) / scale`` per channel."""

    layout: str = "NCHW"
    color: str = "RGB"
    resize: str = "stretch"
    mean: list[float] = field(default_factory=lambda: [0.0])
    scale: list[float] = field(default_factory=lambda: [1.0])


@dataclass
class Config:
    """What runs the model and how inputs are prepared."""

    device: str = "auto"
    kernels: str = "auto"
    precision: str = "int8"
    cache_dir: str = "~/.cache/gpu_int8"
    profiling: bool = False
    shapes: dict[str, list[int]] = field(default_factory=dict)
    inputs: dict[str, InputPreprocess] = field(default_factory=dict)
    source: str = "<defaults>"

    @property
    def cache_path(self) -> Path:
        return Path(os.path.expanduser(self.cache_dir))

    def input_shapes(self, overrides: dict[str, tuple] | None = None) -> dict[str, tuple]:
        """The config's ``shapes``, with ``overrides`` (e.g. ``--shape``) taking precedence."""
        return {**{name: tuple(dims) for name, dims in self.shapes.items()}, **(overrides or {})}

    def preprocess_for(self, name: str) -> InputPreprocess:
        """The preprocessing of input ``name`` (or the ``'*'`` entry, or defaults)."""
        return self.inputs.get(name) or self.inputs.get("*") or InputPreprocess()


def load_config(config: str | os.PathLike | dict | Config | None = None) -> Config:
    """A Config from a YAML path, a dict, a Config (returned as is) or None (defaults)."""
    if config is None:
        return Config()
    if isinstance(config, Config):
        return config
    if isinstance(config, dict):
        return _from_dict(config, "<dict>")
    path = Path(config)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of keys at the top level")
    return _from_dict(data, str(path))


def _from_dict(data: dict, source: str) -> Config:
    def fail(key: str, problem: str):
        raise ConfigError(f"config {source}: key '{key}': {problem}")

    known = {"device", "kernels", "precision", "cache_dir", "profiling", "shapes", "inputs"}
    for key in data:
        if key not in known:
            fail(key, f"unknown key (known keys: {', '.join(sorted(known))})")
    cfg = Config(source=source)
    if "device" in data:
        cfg.device = _string(data["device"], "device", fail)
        if not cfg.device.strip():
            fail("device", f"must be one of {', '.join(DEVICE_KEYWORDS)} or a platform/device name filter")
    for key, choices in (("kernels", KERNEL_FAMILIES), ("precision", PRECISIONS)):
        if key in data:
            setattr(cfg, key, _choice(data[key], key, choices, fail))
    if "cache_dir" in data:
        cfg.cache_dir = _string(data["cache_dir"], "cache_dir", fail)
    if "profiling" in data:
        if not isinstance(data["profiling"], bool):
            fail("profiling", f"expected true or false, got {data['profiling']!r}")
        cfg.profiling = data["profiling"]
    shapes = data.get("shapes") or {}
    if not isinstance(shapes, dict):
        fail("shapes", "expected a mapping input name -> list of dimensions")
    for name, dims in shapes.items():
        if not (isinstance(dims, list) and dims and all(isinstance(d, int) and d > 0 for d in dims)):
            fail(f"shapes.{name}", f"expected a list of positive integers, got {dims!r}")
        cfg.shapes[str(name)] = dims
    inputs = data.get("inputs") or {}
    if not isinstance(inputs, dict):
        fail("inputs", "expected a mapping input name (or '*') -> preprocessing")
    for name, spec in inputs.items():
        cfg.inputs[str(name)] = _preprocess(spec or {}, f"inputs.{name}", fail)
    return cfg


def _preprocess(spec: Any, prefix: str, fail) -> InputPreprocess:
    if not isinstance(spec, dict):
        fail(prefix, "expected a mapping with layout, color, resize, mean, scale")
    known = {"layout", "color", "resize", "mean", "scale"}
    for key in spec:
        if key not in known:
            fail(f"{prefix}.{key}", f"unknown key (known keys: {', '.join(sorted(known))})")
    pre = InputPreprocess()
    for key, choices in (("layout", LAYOUTS), ("color", COLORS), ("resize", RESIZES)):
        if key in spec:
            setattr(pre, key, _choice(spec[key], f"{prefix}.{key}", choices, fail))
    for key in ("mean", "scale"):
        if key in spec:
            vals = spec[key] if isinstance(spec[key], list) else [spec[key]]
            if not vals or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
                fail(f"{prefix}.{key}", f"expected a number or a list of numbers, got {spec[key]!r}")
            if key == "scale" and any(v == 0 for v in vals):
                fail(f"{prefix}.{key}", "must not be zero (inputs are divided by it)")
            channels = 1 if pre.color == "GRAY" else 3
            if len(vals) not in (1, channels):
                fail(f"{prefix}.{key}", f"expected 1 or {channels} values for color {pre.color}, got {len(vals)}")
            setattr(pre, key, [float(v) for v in vals])
    return pre


def _string(value: Any, key: str, fail) -> str:
    if not isinstance(value, str):
        fail(key, f"expected a string, got {value!r}")
    return value


def _choice(value: Any, key: str, choices: tuple, fail) -> str:
    if value not in choices:
        fail(key, f"expected one of {', '.join(choices)}, got {value!r}")
    return value
