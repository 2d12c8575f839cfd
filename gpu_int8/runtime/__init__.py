"""Runtime: the Engine that owns an executor (OpenCL plan or NumPy reference) and runs requests."""

from gpu_int8.runtime.engine import DeviceInfo, Engine, TensorSpec

__all__ = ["DeviceInfo", "Engine", "TensorSpec"]
