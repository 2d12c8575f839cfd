"""``inspect``: the int8 schedule of a model, step by step; with ``--compare``, how far
each int8 step is from the float graph on the same input (the model's own FakeQuantize
graph, or with ``--float-model`` the model before quantization); with ``--offline
tgllp|dg1``, the plan that Intel GPU would get, every kernel of it compiled by ``ocloc``
(no GPU needed)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from gpu_int8.api import load_graph
from gpu_int8.cli.inputs import read_input
from gpu_int8.cli.options import add_model_options, parse_shapes
from gpu_int8.config import load_config
from gpu_int8.errors import GpuInt8Error
from gpu_int8.graph import Graph
from gpu_int8.lpt import transform
from gpu_int8.reference.float_executor import FloatExecutor
from gpu_int8.reference.int8_executor import Int8Executor
from gpu_int8.runtime.engine import TensorSpec
from gpu_int8.schedule import Schedule
from gpu_int8.scheduler.offline import OFFLINE_DEVICES


def add_parser(sub) -> None:
    p = sub.add_parser("inspect", help="show the int8 schedule: each step, its precision, what it fused",
                       description=__doc__)
    add_model_options(p)
    p.add_argument("--json", action="store_true", help="print the schedule (and comparison) as JSON")
    p.add_argument("--compare", action="store_true",
                   help="run the float graph and the int8 schedule on the same input; per step SNR and cosine")
    p.add_argument("--float-model", metavar="MODEL",
                   help="with --compare: measure each step against this float model (the one `quantize` "
                        "started from) instead of the FakeQuantize graph, to see which layers lose accuracy "
                        "to quantization (give a real input with -i: random data is outside the calibrated ranges)")
    p.add_argument("-i", "--input", action="append", default=[], metavar="[NAME=]FILE",
                   help="input for --compare: an image or .npy file (default: seeded random normal data)")
    p.add_argument("--offline", choices=OFFLINE_DEVICES, metavar="{" + ",".join(OFFLINE_DEVICES) + "}",
                   help="compile the plan this Intel GPU would run (Iris Xe: tgllp, Xe MAX: dg1) with ocloc: "
                        "each step's kernel, and per kernel SIMD width, dp4a and register spills")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    shapes = cfg.input_shapes(parse_shapes(args.shape))
    graph = load_graph(args.model, shapes)
    schedule = transform(graph)
    if args.float_model and not args.compare:
        raise GpuInt8Error("--float-model is what --compare measures against: give --compare too")
    figures = None
    if args.compare:
        float_graph = None
        if args.float_model:  # at the quantized model's input shapes
            float_graph = load_graph(args.float_model, {n: tuple(graph.values[n].shape) for n in graph.inputs})
        figures = compare(graph, schedule, _feeds(graph, args.input, cfg), float_graph)
    offline = _offline_plan(schedule, args.offline) if args.offline else None
    if args.json:
        out = to_json(schedule, figures, str(args.model))
        if offline is not None:
            out["offline"] = {"target": offline.target, "family": offline.family,
                              "kernels": {sp.step.name: sp.kernel for sp in offline.steps},
                              "isa": [vars(r) for r in offline.reports]}
        print(json.dumps(out, indent=1))
    else:
        print(f"model: {args.model}")
        for line in describe(schedule, figures):
            print(line)
        if offline is not None:
            print(f"\nplan for {offline.target}:")
            for sp in offline.steps:
                print(f"  {_cut(sp.step.name, 40):40} {sp.kernel}")
            for r in offline.spilling:
                print(f"  spills: {r.line()}")
            print(offline.summary())
    return 0


def _offline_plan(schedule: Schedule, target: str):
    from gpu_int8.scheduler.offline import find_ocloc
    from gpu_int8.scheduler.offline_plan import compile_plan_offline

    if find_ocloc() is None:
        raise GpuInt8Error("--offline needs Intel's offline compiler ocloc (Debian: apt-get install intel-opencl-icd)")
    try:
        return compile_plan_offline(schedule, target)
    except RuntimeError as exc:
        raise GpuInt8Error(f"the plan for {target} does not compile: {exc}") from None


def describe(schedule: Schedule, figures: dict[str, tuple[float, float]] | None = None) -> list[str]:
    """Text lines: one per step, then the summary line."""
    lines = []
    header = f"{'#':>4} {'step':40} {'kind':11} {'prec':4} {'output':24}"
    lines.append(header + ("   SNR dB   cosine" if figures is not None else "") + "  fused")
    for i, step in enumerate(schedule.steps, 1):
        out = schedule.tensors[step.outputs[0]]
        row = f"{i:4d} {_cut(step.name, 40):40} {step.kind:11} {schedule.precision(step):4} " \
              f"{_cut(out.dtype + str(list(out.shape)).replace(' ', ''), 24):24}"
        if figures is not None:
            snr, cos = figures.get(step.name, (math.nan, math.nan))
            row += f" {snr:8.1f} {cos:8.5f}"
        fused = step.label
        if step.kind == "float" and step.attrs.get("reason"):
            fused += f"  [float: {step.attrs['reason']}]"
        lines.append(f"{row}  {fused}")
    lines.append(schedule.summary().line())
    return lines


def to_json(schedule: Schedule, figures, model: str) -> dict:
    summary = schedule.summary()
    steps = []
    for step in schedule.steps:
        out = schedule.tensors[step.outputs[0]]
        item = {"name": step.name, "kind": step.kind, "precision": schedule.precision(step),
                "inputs": step.inputs, "outputs": step.outputs, "output_dtype": out.dtype,
                "output_shape": list(out.shape), "fused": step.label,
                "absorbed": [{"op": op, "name": name} for op, name in step.absorbed],
                "epilogue": [ins[0] if ins[0] != "act" else f"act:{ins[1]}" for ins in step.epilogue]}
        if step.kind == "float":
            item["reason"] = step.attrs.get("reason")
        if figures is not None and step.name in figures:
            item["snr_db"], item["cosine"] = (_finite(v) for v in figures[step.name])
        steps.append(item)
    return {"model": model, "steps": steps,
            "summary": {"line": summary.line(), "int8": summary.int8, "compute": summary.compute,
                        "float_layers": [{"op": op, "name": name, "reason": reason}
                                         for op, name, reason in summary.float_layers]}}


def compare(graph: Graph, schedule: Schedule, feeds: dict[str, np.ndarray],
            float_graph: Graph | None = None) -> dict[str, tuple[float, float]]:
    """Per step (by name): SNR in dB and cosine of its (dequantized) output against the float
    graph's value of the same source node.  With ``float_graph`` (the model before
    quantization) against its value of that name instead, the source node's FakeQuantize
    looked through: the loss quantization causes up to that step."""
    actual = Int8Executor(schedule).run(feeds, keep_all=True)
    if float_graph is not None:
        _check_same_inputs(graph, float_graph)
    reference = FloatExecutor(float_graph or graph).run(feeds, keep_all=True)
    # against the float model, a FakeQuantize's output is compared with the value it quantizes
    producers = graph.producers() if float_graph is not None else {}
    figures = {}
    for step in schedule.steps:
        tensor = schedule.tensors[step.outputs[0]]
        source = _before_fake_quantize(producers, tensor.origin)
        if source not in reference or tensor.name not in actual:
            continue
        expected = np.asarray(reference[source], np.float64)
        got = np.asarray(tensor.dequantize(actual[tensor.name]), np.float64)
        if expected.shape != got.shape:
            continue
        figures[step.name] = snr_and_cosine(got, expected)
    return figures


def _before_fake_quantize(producers: dict, name: str) -> str:
    """The value a FakeQuantize (chain) quantizes, or ``name`` itself."""
    while name in producers and producers[name].op_type == "FakeQuantize":
        name = producers[name].inputs[0]
    return name


def _check_same_inputs(graph: Graph, float_graph: Graph) -> None:
    ours = {n: tuple(graph.values[n].shape) for n in graph.inputs}
    theirs = {n: tuple(float_graph.values[n].shape) for n in float_graph.inputs}
    if ours != theirs:
        raise GpuInt8Error(f"--float-model {float_graph.source} has inputs {theirs}; the quantized model has {ours}")


def snr_and_cosine(actual: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    """SNR = 10 log10(|expected|^2 / |actual - expected|^2) (inf when equal), and the cosine."""
    signal = float(np.sum(expected * expected))
    noise = float(np.sum((actual - expected) ** 2))
    snr = math.inf if noise == 0 else (10 * math.log10(signal / noise) if signal > 0 else -math.inf)
    norms = float(np.linalg.norm(actual) * np.linalg.norm(expected))
    cosine = float(np.sum(actual * expected) / norms) if norms > 0 else float(np.array_equal(actual, expected))
    return snr, cosine


def _feeds(graph: Graph, items: list[str], cfg) -> dict[str, np.ndarray]:
    """Inputs from -i (.npy or images, read as ``infer`` reads them), seeded random data for the rest."""
    specs = {name: TensorSpec(name, graph.values[name].shape, graph.values[name].dtype) for name in graph.inputs}
    feeds = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep:
            if len(specs) != 1:
                raise GpuInt8Error(f"the model has inputs {list(specs)}: give each as -i NAME=FILE")
            name, path = next(iter(specs)), item
        if name not in specs:
            raise GpuInt8Error(f"-i {item}: the model has no input '{name}'")
        feeds[name] = read_input(Path(path), specs[name], cfg)
    rng = np.random.default_rng(0)
    for name, spec in specs.items():
        if name not in feeds:
            feeds[name] = rng.standard_normal(spec.shape).astype(spec.dtype) \
                if np.issubdtype(spec.dtype, np.floating) else np.zeros(spec.shape, spec.dtype)
    return feeds


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


def _finite(value: float):
    return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")

