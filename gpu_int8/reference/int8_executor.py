"""Runs a Schedule in NumPy with exactly the integer arithmetic of the kernels.

Int8 steps accumulate exactly (int8 x int8 products summed in float64, whose
53-bit mantissa holds every such sum of realistic length, then taken as
integers), add the int32 ``comp`` term, and run the float32 epilogue of
:mod:`gpu_int8.schedule.epilogue`.  Move steps run the op's reference on the
stored integers; float steps run the op's float reference.  This is the
oracle of every OpenCL kernel.
"""

from __future__ import annotations

import itertools

import numpy as np

from gpu_int8.errors import ModelError
from gpu_int8.ops import conv_math, spatial
from gpu_int8.schedule import Schedule, Step
from gpu_int8.schedule.epilogue import per_channel, run_epilogue
from gpu_int8.schedule.step import CONVERTING


class Int8Executor:
    """Executes a schedule step by step; inputs and outputs are float32 arrays by name."""

    def __init__(self, schedule: Schedule):
        schedule.check()
        self.schedule = schedule
        last_use: dict[str, int] = {}
        for i, step in enumerate(schedule.steps):
            for name in step.inputs:
                last_use[name] = i
        self._free_after = [[n for n in set(step.inputs) if last_use.get(n) == i and n not in schedule.outputs]
                            for i, step in enumerate(schedule.steps)]

    def run(self, feeds: dict[str, np.ndarray], keep_all: bool = False) -> dict[str, np.ndarray]:
        """Outputs by name (float32); with ``keep_all`` every tensor as stored (u8/i8/f32) too."""
        env: dict[str, np.ndarray] = {}
        for name in self.schedule.inputs:
            if name not in feeds:
                raise ModelError(f"no data given for input '{name}'", file=self.schedule.name)
            env[name] = np.asarray(feeds[name], self.schedule.tensors[name].np_dtype)
        for i, step in enumerate(self.schedule.steps):
            try:
                results = run_step(step, [env[n] for n in step.inputs],
                                   [self.schedule.tensors[n] for n in step.outputs])
            except ModelError:
                raise
            except Exception as exc:
                raise ModelError(f"step {step.kind} failed: {exc}", file=self.schedule.name,
                                 node=step.name) from exc
            env.update(zip(step.outputs, results))
            if not keep_all:
                for name in self._free_after[i]:
                    env.pop(name, None)
        if keep_all:
            return env
        return {name: _output(self.schedule.tensors[name], env[name]) for name in self.schedule.outputs}


def _output(tensor, data: np.ndarray) -> np.ndarray:
    """A model output as the source graph has it: int8 tensors dequantized, others as stored."""
    return tensor.dequantize(data) if tensor.is_int8 and tensor.has_quantization else data


def run_step(step: Step, inputs: list[np.ndarray], outputs) -> list[np.ndarray]:
    """The outputs of one step, stored in the dtypes of the ``outputs`` tensors."""
    if step.kind in ("move", "float"):
        return _run_op(step, inputs, outputs)
    y = _start_value(step, inputs)
    y = run_epilogue(y, step.epilogue, step.consts, inputs, step.axis)
    return [_store(y, outputs[0].np_dtype)]


def _store(y: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        if y.size and (np.min(y) < info.min or np.max(y) > info.max or not np.all(np.rint(y) == y)):
            raise ValueError(f"epilogue result does not fit {dtype} (does the program end with round?)")
        return y.astype(dtype)
    return y.astype(dtype, copy=False)


def _start_value(step: Step, inputs: list[np.ndarray]) -> np.ndarray:
    """float32 start value of the epilogue: the accumulator, the average, or the input."""
    if step.kind in CONVERTING:
        return inputs[0].astype(np.float32)
    if step.kind in ("avg_pool", "reduce_mean"):
        total, count = (_window_sum if step.kind == "avg_pool" else _axes_sum)(step, inputs[0])
        return total.astype(np.float32) / count.astype(np.float32)
    acc = {"conv": _conv_acc, "deconv": _deconv_acc, "matmul": _matmul_acc}[step.kind](step, inputs)
    comp = step.consts.get("comp")
    if comp is not None:
        acc = acc + per_channel(comp, acc.ndim, step.axis).astype(np.int64)
    return acc.astype(np.float32)


def _exact(values: np.ndarray) -> np.ndarray:
    """int64 of a float64 array that holds exact integer sums."""
    return values.astype(np.int64)


def _conv_acc(step: Step, inputs) -> np.ndarray:
    a = step.attrs
    x = spatial.pad_spatial(inputs[0].astype(np.float64), a["pads_begin"], a["pads_end"], a["pad_value"])
    w = step.consts["w"].astype(np.float64)
    out = tuple(a["out_sizes"])
    zeros = [0] * len(out)
    return _exact(conv_math.grouped_convolution(x, w, a["strides"], a["dilations"], zeros, zeros, out))


def _deconv_acc(step: Step, inputs) -> np.ndarray:
    a = step.attrs
    y = conv_math.grouped_transposed_convolution(
        inputs[0].astype(np.float64), step.consts["w"].astype(np.float64), a["strides"], a["dilations"],
        a["pads_begin"], a["pads_end"], a["output_padding"])
    return _exact(y)


def _matmul_acc(step: Step, inputs) -> np.ndarray:
    a = inputs[0].astype(np.float64)
    b = (step.consts["w"] if "w" in step.consts else inputs[1]).astype(np.float64)
    if step.attrs["transpose_a"]:
        a = np.swapaxes(a, -1, -2)
    if step.attrs["transpose_b"]:
        b = np.swapaxes(b, -1, -2)
    return _exact(np.matmul(a, b))


def _window_sum(step: Step, x: np.ndarray):
    a = step.attrs
    kernel, strides, out = a["kernel"], a["strides"], tuple(a["out_sizes"])
    ones = [1] * len(kernel)
    fill = 0 if a["exclude_pad"] else a["pad_value"]
    xp = spatial.pad_spatial(x.astype(np.int64), a["pads_begin"], a["pads_end"], fill)
    xp = spatial.fit_to_windows(xp, kernel, strides, ones, out, 0)
    total = np.zeros(x.shape[:2] + out, np.int64)
    for tap in itertools.product(*(range(k) for k in kernel)):
        total += xp[(slice(None), slice(None)) + spatial.tap_slices(tap, strides, ones, out)]
    count = np.ones((), np.int64)
    for n, k, s, b, e, o in zip(x.shape[2:], kernel, strides, a["pads_begin"], a["pads_end"], out):
        start = np.arange(o) * s - b
        stop = np.minimum(start + k, n + e)
        c = np.minimum(stop, n) - np.maximum(start, 0) if a["exclude_pad"] else stop - start
        count = np.multiply.outer(count, np.maximum(c, 1))
    return total, count


def _axes_sum(step: Step, x: np.ndarray):
    axes = tuple(step.attrs["axes"])
    total = np.sum(x.astype(np.int64), axis=axes, keepdims=step.attrs["keep_dims"])
    return total, np.asarray(int(np.prod([x.shape[i] for i in axes])), np.int64)


def _run_op(step: Step, inputs: list[np.ndarray], outputs) -> list[np.ndarray]:
    results = step.run_op(inputs)
    stored = []
    for data, tensor in zip(results, outputs):
        data = np.asarray(data)
        if np.issubdtype(tensor.np_dtype, np.integer) and np.issubdtype(data.dtype, np.floating):
            data = np.rint(data)
        stored.append(data.astype(tensor.np_dtype, copy=False))
    return stored
