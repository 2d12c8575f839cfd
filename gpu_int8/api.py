"""The public entry point: ``gpu_int8.load(path, config)`` -> Engine.

It walks the one-way chain: frontends -> Graph -> lpt -> Schedule -> (scheduler
-> Plan) -> runtime.
"""

from __future__ import annotations

import os
import warnings

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
    graph = load_graph(path, cfg.input_shapes(shapes))
    inputs = [TensorSpec(n, graph.values[n].shape, graph.values[n].dtype) for n in graph.inputs]
    outputs = [TensorSpec(n, graph.values[n].shape, graph.values[n].dtype) for n in graph.outputs]
    schedule = None
    if cfg.precision == "int8":
        from gpu_int8.lpt import transform

        schedule = transform(graph)
        executor, device = _int8_executor(schedule, cfg)
    else:
        executor = FloatExecutor(graph)
        device = DeviceInfo("NumPy reference", "reference", None, cfg.precision,
                            "precision fp32 runs the float graph on the NumPy reference")
    return Engine(executor, inputs, outputs, device, schedule)


def _int8_executor(schedule, cfg: Config):
    """A compiled OpenCL plan on the configured device, or the NumPy int8 reference.

    The device comes from :func:`gpu_int8.scheduler.selection.select_device`
    (``device``/``kernels`` of the config).  When a plan's program does not
    build, the next choice is tried (the portable family on the same device,
    then, for ``device: auto``, the other OpenCL devices, then the reference)
    with a warning naming the kernel and the build log's first error.
    """
    from gpu_int8.reference.int8_executor import Int8Executor
    from gpu_int8.scheduler.selection import select_device

    choice = select_device(cfg.device, cfg.kernels)
    failures: list[str] = []
    for cand in _candidates(choice, cfg):
        try:
            executor = _compile(schedule, cand, cfg)
        except Exception as exc:  # noqa: BLE001 - a driver may fail in many ways; the next choice runs
            msg = _failure_message(cand, exc)
            warnings.warn(f"{msg}; trying the next choice", RuntimeWarning, stacklevel=3)
            failures.append(msg)
            continue
        reason = cand.reason + (f" (after: {'; '.join(failures)})" if failures else "")
        return executor, DeviceInfo(cand.device.label(), "opencl", cand.family, "int8", reason)
    reason = choice.reason if choice.device is None else "no OpenCL plan could be built: " + "; ".join(failures)
    return Int8Executor(schedule), DeviceInfo("NumPy reference", "reference", None, "int8", reason)


def _candidates(choice, cfg: Config) -> list:
    """The selected device/family, then the fallbacks in order."""
    from gpu_int8.scheduler.selection import fallback_choices

    if choice.device is None:
        return []
    return [choice, *fallback_choices(choice, cfg.device, cfg.kernels)]


def _compile(schedule, choice, cfg: Config):
    from gpu_int8.runtime.cl_backend import CLDevice
    from gpu_int8.runtime.plan_executor import PlanExecutor
    from gpu_int8.scheduler.plan import build_plan
    from gpu_int8.scheduler.program_cache import ProgramCache

    device = CLDevice(choice.device, ProgramCache(cfg.cache_path / "programs"))
    plan = build_plan(schedule, device, choice.family, choice.subgroup_size)
    return PlanExecutor(plan, profiling=cfg.profiling)


def _failure_message(choice, exc: Exception) -> str:
    from gpu_int8.scheduler.compile.program import PlanBuildError

    where = f"{choice.family} kernels on {choice.device.label()}"
    if isinstance(exc, PlanBuildError):
        return f"kernel '{exc.kernel}' (step '{exc.step}') did not build for {where}: {exc.first_error}"
    return f"{where} failed: {type(exc).__name__}: {exc}"
