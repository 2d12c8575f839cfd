"""gpu_int8: int8 inference of quantized vision models on Intel integrated GPUs.

Typical use::

    import gpu_int8
    engine = gpu_int8.load("model.xml", config="configs/default.yaml")
    outputs = engine.infer({engine.inputs[0].name: image_tensor})
"""

__version__ = "0.1.0"

from gpu_int8.api import load  # noqa: E402
from gpu_int8.config import Config, load_config  # noqa: E402
from gpu_int8.errors import ConfigError, GpuInt8Error, ModelError  # noqa: E402

__all__ = ["Config", "ConfigError", "GpuInt8Error", "ModelError", "load", "load_config"]
