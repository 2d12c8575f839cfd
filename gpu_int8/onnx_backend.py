"""An ``onnx.backend`` backend over gpu_int8's float reference, for the ONNX conformance suite.

``GpuInt8Backend.prepare(model).run(inputs)`` reads the model with the ONNX
reader, fixes the input shapes from the arrays it is given, infers shapes and
runs the NumPy float reference (FloatExecutor).

The engine works on static shapes, so integer-typed inputs given at run time
(a Reshape's shape, a Slice's starts, TopK's k, ...) and the float inputs that
decide an output shape (Resize/Upsample scales, Range's bounds) are bound as
constants -- turned into initializers before the model is read -- so they
fold like initializers would and the reader sees their values.  A prepared
model is therefore specialized per distinct set of input shapes and bound
values (cached).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import ModelProto, NodeProto, helper, numpy_helper
from onnx.backend.base import Backend, BackendRep, Device, DeviceType, namedtupledict

from gpu_int8.frontends.fold_batchnorm import fold_batchnorm
from gpu_int8.frontends.onnx_reader import read_onnx
from gpu_int8.graph import Graph, infer_shapes, set_input_shapes
from gpu_int8.reference.float_executor import FloatExecutor

#: ONNX op -> positions of float inputs that decide the output shape (bound like integer inputs)
FLOAT_SHAPE_INPUTS = {"Resize": (1, 2, 3), "Upsample": (1,), "Range": (0, 1, 2)}


class GpuInt8Rep(BackendRep):
    """A model ready to run on the float reference."""

    def __init__(self, model: ModelProto):
        self.model = model
        initializers = {t.name for t in model.graph.initializer}
        self.input_names = [i.name for i in model.graph.input if i.name not in initializers]
        self.output_names = [o.name for o in model.graph.output]
        self._float_params = {node.input[i] for node in model.graph.node
                              for i in FLOAT_SHAPE_INPUTS.get(node.op_type, ()) if i < len(node.input)}
        self._cache: dict[tuple, tuple[Graph, FloatExecutor]] = {}

    def run(self, inputs: Any, **kwargs: Any) -> tuple[Any, ...]:
        feeds = self._feeds(inputs)
        graph, executor = self._specialize(feeds)
        outputs = executor.run({name: feeds[name] for name in graph.inputs})
        return namedtupledict("Outputs", self.output_names)(*[outputs[name] for name in self.output_names])

    def _feeds(self, inputs) -> dict[str, np.ndarray]:
        if isinstance(inputs, dict):
            feeds = {name: np.asarray(array) for name, array in inputs.items()}
        else:
            if isinstance(inputs, np.ndarray):
                inputs = [inputs]
            if len(inputs) > len(self.input_names):
                raise ValueError(f"{len(inputs)} inputs given, the model has {len(self.input_names)}")
            feeds = {name: np.asarray(array) for name, array in zip(self.input_names, inputs)}
        missing = [name for name in self.input_names if name not in feeds]
        if missing:
            raise ValueError(f"inputs {missing} are missing")
        return feeds

    def _binds(self, name: str, array: np.ndarray) -> bool:
        return np.issubdtype(array.dtype, np.integer) or name in self._float_params

    def _specialize(self, feeds: dict[str, np.ndarray]) -> tuple[Graph, FloatExecutor]:
        bound = {name: array for name, array in feeds.items() if self._binds(name, array)}
        key = tuple((name, a.shape, a.dtype.str, a.tobytes() if name in bound else b"")
                    for name, a in sorted(feeds.items()))
        if key not in self._cache:
            graph = read_onnx(_with_initializers(self.model, bound))
            set_input_shapes(graph, {name: feeds[name].shape for name in graph.inputs})
            infer_shapes(graph)
            fold_batchnorm(graph)
            self._cache[key] = (graph, FloatExecutor(graph))
        return self._cache[key]


def _with_initializers(model: ModelProto, bound: dict[str, np.ndarray]) -> ModelProto:
    """A copy of ``model`` whose inputs in ``bound`` are initializers holding the given values."""
    if not bound:
        return model
    copy = ModelProto()
    copy.CopyFrom(model)
    inputs = [i for i in copy.graph.input if i.name not in bound]
    del copy.graph.input[:]
    copy.graph.input.extend(inputs)
    copy.graph.initializer.extend(numpy_helper.from_array(np.asarray(a), name) for name, a in bound.items())
    return copy


class GpuInt8Backend(Backend):
    """onnx.backend API: prepare / run_model / run_node on the CPU (NumPy float reference)."""

    @classmethod
    def is_compatible(cls, model: ModelProto, device: str = "CPU", **kwargs: Any) -> bool:
        return cls.supports_device(device)

    @classmethod
    def prepare(cls, model: ModelProto, device: str = "CPU", **kwargs: Any) -> GpuInt8Rep:
        if not cls.supports_device(device):
            raise ValueError(f"gpu_int8's reference backend runs on the CPU, not on {device}")
        return GpuInt8Rep(model)

    @classmethod
    def run_model(cls, model: ModelProto, inputs: Any, device: str = "CPU", **kwargs: Any) -> tuple[Any, ...]:
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node: NodeProto, inputs: Any, device: str = "CPU",
                 outputs_info: Sequence[tuple[np.dtype, tuple[int, ...]]] | None = None,
                 **kwargs: Any) -> tuple[Any, ...]:
        """Run one node: it is wrapped in a model whose inputs are typed from ``inputs``."""
        arrays = list(inputs.values()) if isinstance(inputs, dict) else list(inputs)
        names = [n for n in node.input if n]
        if len(arrays) != len(names):
            raise ValueError(f"node has {len(names)} inputs, {len(arrays)} arrays given")
        graph_inputs = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(np.asarray(a).dtype),
                                                      np.asarray(a).shape) for n, a in zip(names, arrays)]
        graph_outputs = [helper.make_empty_tensor_value_info(n) for n in node.output if n]
        graph = helper.make_graph([node], f"{node.op_type}_node", graph_inputs, graph_outputs)
        opset = kwargs.get("opset_version", onnx.defs.onnx_opset_version())
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        return cls.run_model(model, dict(zip(names, arrays)), device)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return Device(device).type == DeviceType.CPU


prepare = GpuInt8Backend.prepare
run_model = GpuInt8Backend.run_model
run_node = GpuInt8Backend.run_node
supports_device = GpuInt8Backend.supports_device
