"""The public entry point: ``gpu_int8.load(path, config)`` -> Engine.

It walks the one-way chain: frontends -> Graph -> lpt -> Schedule -> (scheduler
-> Plan) -> runtime.
"""

from __future__ import annotations

import os

from gpu_int8.config import Config, load_config
from gpu_int8.frontends import read_model
from gpu_int8.graph import Graph, infer_shapes, set_input_shapes
from gpu_int8.reference.float_executor import FloatExecutor
from gpu_int8.runtime.engine import DeviceInfo, Engine, TensorSpec


def load_graph(path: str | os.PathLike, shapes: dict[str, tuple] | None = None) -> Graph:
    """Read a model file and fix its shapes (constant subgraphs folded)."""
    graph = read_model(str(path))
    set_input_shapes(graph, shapes)
    return infer_shapes(graph)


def load(path: str | os.PathLike, config: str | os.PathLike | dict | Config | None = None,
         shapes: dict[str, tuple] | None = None) -> Engine:
    """Load a model (.xml OpenVINO IR or .onnx) into an Engine.

    ``config`` is a YAML path, a dict or a Config; ``shapes`` overrides the
    config's ``shapes`` for inputs whose size the model leaves free.
    """
    cfg = load_config(config)
    graph = load_graph(path, {**{k: tuple(v) for k, v in cfg.shapes.items()}, **(shapes or {})})
    inputs = [TensorSpec(n, graph.values[n].shape, graph.values[n].dtype) for n in graph.inputs]
    outputs = [TensorSpec(n, graph.values[n].shape, graph.values[n].dtype) for n in graph.outputs]
    schedule = None
    if cfg.precision == "int8":
        from gpu_int8.lpt import transform
        from gpu_int8.reference.int8_executor import Int8Executor

        schedule = transform(graph)
        executor = Int8Executor(schedule)
    else:
        executor = FloatExecutor(graph)
    device = DeviceInfo("NumPy reference", "reference", None, cfg.precision,
                        _reference_reason(cfg))
    return Engine(executor, inputs, outputs, device, schedule)


def _reference_reason(cfg: Config) -> str:
    if cfg.device == "reference":
        return "the config asks for the reference executor"
    return f"device '{cfg.device}' requested, but OpenCL execution of schedules is not built yet"
