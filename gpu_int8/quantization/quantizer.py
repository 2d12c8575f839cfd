"""``quantize``: a float model and calibration inputs -> a FakeQuantize OpenVINO IR."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gpu_int8.errors import GpuInt8Error, ModelError
from gpu_int8.frontends import read_model
from gpu_int8.frontends.ir_writer import write_ir
from gpu_int8.graph import Graph, infer_shapes, set_input_shapes
from gpu_int8.quantization.activations import fuse_activations
from gpu_int8.quantization.batch_norm import decompose_batch_norms
from gpu_int8.quantization.bias_correction import InputMeans, biased_layers, correct_biases
from gpu_int8.quantization.insert import insert_fake_quantize, insert_int8_weights
from gpu_int8.quantization.layer_norm import fuse_layer_norms
from gpu_int8.quantization.placement import place
from gpu_int8.quantization.ranges import METHODS, Extrema, Histograms, shared
from gpu_int8.quantization.shape_subgraphs import restore_shape_subgraphs
from gpu_int8.reference.float_executor import FloatExecutor


@dataclass
class QuantizeReport:
    """What :func:`quantize` did."""

    output: Path
    samples: int
    activations: int
    weights: int
    #: written-out subgraphs folded before quantization: what -> how many
    folded: dict[str, int]
    #: convolutions / MatMuls left in float, with the reason
    left_float: dict[str, str] = field(default_factory=dict)
    #: placed activations no calibration input reached (left unquantized)
    unseen: list[str] = field(default_factory=list)
    #: biases given back the mean shift quantization gave their layer's output
    corrected_biases: int = 0
    #: shape computations written back in front of their folded constants (see
    #: :mod:`gpu_int8.quantization.shape_subgraphs`)
    shape_subgraphs: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        lines = [f"wrote {self.output} (and {self.output.with_suffix('.bin').name}) in {self.seconds:.1f} s",
                 f"  calibration inputs: {self.samples}",
                 f"  activations behind FakeQuantize: {self.activations}",
                 f"  weights stored as int8 (scale per output channel): {self.weights}",
                 f"  biases corrected for the mean shift of quantization: {self.corrected_biases}"]
        if self.shape_subgraphs:
            lines.append(f"  shape computations kept (the model takes other input sizes): {self.shape_subgraphs}")
        lines += [f"  folded first: {count} {what}" for what, count in self.folded.items() if count]
        lines += [f"  left in float: {name} ({why})" for name, why in self.left_float.items()]
        if self.unseen:
            lines.append(f"  not reached by the calibration inputs, left unquantized: {', '.join(self.unseen)}")
        return "\n".join(lines)


def quantize(model: str | os.PathLike, calibration: Iterable[dict[str, np.ndarray]], output: str | os.PathLike,
             shapes: dict[str, tuple] | None = None, ranges: str = "mse", overwrite: bool = False,
             bias_correction: bool = True, ignored: Iterable[str] = ()) -> QuantizeReport:
    """Quantize a float model (ONNX or OpenVINO IR) for int8 inference.

    Runs the float reference on each feed dict of ``calibration``, finds the range of
    every activation a FakeQuantize goes on (see :mod:`gpu_int8.quantization.placement`),
    and writes ``output`` (.xml, plus its .bin) as an OpenVINO IR with 256-level
    FakeQuantize on those activations and int8 weights: a model ``gpu_int8.load`` runs
    in int8, and OpenVINO too.  ``ranges`` is one of
    :data:`~gpu_int8.quantization.ranges.METHODS`.  With ``bias_correction`` each
    convolution's and MatMul's bias absorbs the mean shift quantization gives its output
    (:mod:`gpu_int8.quantization.bias_correction`).  Nodes named in ``ignored`` stay float:
    no int8 weights, inputs read unquantized.  Existing output files are kept unless
    ``overwrite``.
    """
    check_output(model, output, overwrite)
    graph, original = load_for_quantize(model, shapes)
    return quantize_graph(graph, calibration, output, ranges, overwrite,
                          bias_correction=bias_correction, ignored=ignored, original=original)


def load_for_quantize(model: str | os.PathLike, shapes: dict[str, tuple] | None = None) -> tuple[Graph, Graph]:
    """The model read once: a copy with its shapes fixed (shape subgraphs folded) to quantize,
    and the model as read, whose shape subgraphs the output gets back."""
    original = read_model(str(model))
    graph = original.copy()
    set_input_shapes(graph, shapes)
    return infer_shapes(graph), original


def check_output(model: str | os.PathLike, output: str | os.PathLike, overwrite: bool) -> None:
    """A clear error, before any work, if ``output`` is not a usable IR path."""
    xml = Path(output)
    if xml.suffix != ".xml":
        raise GpuInt8Error(f"output {xml} must be an OpenVINO IR .xml path (its .bin goes beside it)")
    if Path(model).resolve() in (xml.resolve(), xml.with_suffix(".bin").resolve()):
        raise GpuInt8Error(f"output {xml} would replace the model being quantized")
    if not overwrite:
        for path in (xml, xml.with_suffix(".bin")):
            if path.exists():
                raise GpuInt8Error(f"{path} exists; choose another output or allow overwriting it (--overwrite)")


def quantize_graph(graph: Graph, calibration: Iterable[dict[str, np.ndarray]], output: str | os.PathLike,
                   ranges: str = "mse", overwrite: bool = False,
                   progress: Callable[[list, str], Iterable] | None = None,
                   bias_correction: bool = True, ignored: Iterable[str] = (),
                   original: Graph | None = None) -> QuantizeReport:
    """:func:`quantize` on a loaded float graph (shapes inferred); the graph is changed in
    place.  ``progress(items, label)``, if given, wraps each calibration pass (a progress bar).
    ``original`` is the same model as read, shapes not fixed: the shape computations it
    has are written back, so the output takes other input sizes too."""
    start = time.perf_counter()
    if ranges not in METHODS:
        raise GpuInt8Error(f"range method '{ranges}' is not one of {list(METHODS)}")
    check_output(graph.source or "", output, overwrite)
    if any(n.op_type == "FakeQuantize" for n in graph.nodes):
        raise ModelError("the model is already quantized (it has FakeQuantize layers)", file=graph.source)
    ignored = set(ignored)
    unknown = sorted(ignored - {n.name for n in graph.nodes})
    if unknown:
        raise ModelError(f"no node named {', '.join(map(repr, unknown))} to keep float (`python -m gpu_int8 "
                         f"inspect -m MODEL` lists the node names)", file=graph.source)
    progress = progress or (lambda items, label: items)
    folded = {"written-out HSwish/Swish -> one op": fuse_activations(graph),
              "BatchNorm -> Multiply + Add": decompose_batch_norms(graph),
              "written-out layer norm -> MVN": fuse_layer_norms(graph)}
    infer_shapes(graph)
    placement = place(graph, ignored)
    feeds = [_checked(graph, f) for f in calibration]
    if not feeds:
        raise GpuInt8Error("no calibration inputs: give at least one")
    executor = FloatExecutor(graph)
    extrema = Extrema(placement.activations, placement.per_channel)
    for f in progress(feeds, "ranges"):
        executor.run(f, observe=extrema.observe)
    if ranges == "mse":
        histograms = Histograms(extrema)
        for f in progress(feeds, "histograms"):
            executor.run(f, observe=histograms.observe)
        found = histograms.ranges()
    else:
        found = extrema.ranges(ranges)
    found.update(extrema.channel_ranges())
    found = shared(found, placement.shared_ranges)
    corrected = 0
    if bias_correction:
        layers = biased_layers(graph, placement, found)
        means = InputMeans(layers)
        for f in progress(feeds, "bias correction"):
            executor.run(f, observe=means.observe)
        corrected = correct_biases(graph, layers, means)
    inserted = insert_fake_quantize(graph, placement, found)
    insert_int8_weights(graph, placement.weights)
    infer_shapes(graph)
    kept = restore_shape_subgraphs(graph, original) if original is not None else 0
    xml = Path(output)
    xml.parent.mkdir(parents=True, exist_ok=True)
    write_ir(graph, xml)
    return QuantizeReport(xml, len(feeds), inserted, len(placement.weights), folded, placement.left_float,
                          sorted(set(placement.activations) - set(found)), corrected, kept,
                          time.perf_counter() - start)


def _checked(graph, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``feeds`` as the graph's inputs need them; a missing input or a wrong shape is named."""
    out = {}
    for name in graph.inputs:
        if name not in feeds:
            raise GpuInt8Error(f"calibration input has no data for model input '{name}' (got {sorted(feeds)})")
        value = graph.values[name]
        array = np.asarray(feeds[name])
        if tuple(array.shape) != tuple(value.shape):
            raise GpuInt8Error(f"calibration data for '{name}' has shape {list(array.shape)}, the model needs "
                               f"{list(value.shape)}")
        out[name] = array.astype(value.dtype, copy=False)
    return out
