"""gpu_int8: int8 inference of quantized vision models on Intel integrated GPUs.

Typical use::

    import gpu_int8
    engine = gpu_int8.load("model.xml", config="configs/default.yaml")
    outputs = engine.infer({engine.inputs[0].name: image_tensor})
    gpu_int8.quantize("float.onnx", [{"x": tensor} for tensor in calibration], "int8.xml")
"""

__version__ = "0.1.0"

from gpu_int8.config import Config, load_config  # noqa: E402
from gpu_int8.errors import ConfigError, GpuInt8Error, ModelError  # noqa: E402


def __getattr__(name: str):
    # `load` pulls in the readers (onnx); import it on first use so that
    # `import gpu_int8.config` and friends stay light
    if name == "load":
        from gpu_int8.api import load

        return load
    if name == "quantize":
        from gpu_int8.quantization import quantize

        return quantize
    raise AttributeError(f"module 'gpu_int8' has no attribute {name!r}")

__all__ = ["Config", "ConfigError", "GpuInt8Error", "ModelError", "load", "load_config", "quantize"]
