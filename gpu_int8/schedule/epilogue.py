"""The requantization epilogue: the float32 program every int8 step runs on
its accumulator before it stores the result.  Kernels copy it instruction by
instruction; this file is its definition.

A step's epilogue is a list of instructions applied in order to ``y``, a
float32 value per output element, starting from

* ``y = float32(acc)`` for convolution / matmul steps (``acc`` the int32 sum,
  including the step's int32 ``comp[c]``),
* ``y = float32(sum) / float32(count)`` for average pooling (IEEE division,
  correctly rounded: OpenCL needs ``-cl-fp32-correctly-rounded-divide-sqrt``
  or an integer path that gives the same value),
* ``y = float32(x)`` for quantize / requantize / dequantize steps (``x`` the
  stored input: raw integers, or floats).

Instructions (``c`` is the index along the step's channel axis; every per-channel
vector has length 1 or C; ``m``/``b``/``slope`` name float32 constants of the step):

``("affine", m, b)``      ``y = y * m[c] + b[c]``
``("act", kind, params)`` ``y = act(y)``, one of :data:`ACTIVATIONS` below
``("add", k, m, b)``      ``y = y + (float32(in_k) * m[c] + b[c])``  (residual branch)
``("mul", k, m, b)``      ``y = y * (float32(in_k) * m[c] + b[c])``  (e.g. squeeze-excite scale)
``("round", lo, hi)``     ``y = min(max(rint(y), lo), hi)``, round half to even

Activations, each a float32 expression evaluated left to right as written
(``exp``/``tanh``/``erf``/``log1p`` are the float32 library functions; their
last-bit differences between NumPy and OpenCL are within the 1-step tolerance):

``relu``          max(y, 0)
``clamp``         min(max(y, min), max)
``hswish``        y * min(max(y + 3, 0), 6) * (1/6)        (1/6 as the float32 constant)
``hsigmoid``      min(max(y + 3, 0), 6) * (1/6)
``hard_sigmoid``  min(max(alpha * y + beta, 0), 1)
``sigmoid``       1 / (1 + exp(-y))
``swish``         y / (1 + exp(-(beta * y)))
``tanh``          tanh(y)
``gelu_erf``      0.5 * y * (1 + erf(y * (1/sqrt(2))))
``gelu_tanh``     0.5 * y * (1 + tanh(sqrt(2/pi) * (y + 0.044715 * y * y * y)))
``elu``           y > 0 ? y : alpha * (exp(y) - 1)
``prelu``         y < 0 ? y * slope[c] : y
``softplus``      max(y, 0) + log1p(exp(-|y|))
``mish``          y * tanh(softplus(y))

``in_k`` is the step's input number ``k`` (an int8 tensor read raw, or a float
tensor), broadcast NumPy-style to the output.  A step that stores u8/i8 ends
with ``round``; one that stores f32 stores ``y``.

Every ``*`` and ``+`` above is one float32 operation rounded to nearest even,
evaluated left to right.  A kernel that contracts ``y * m + b`` into one fma
may differ in the last bit, so a requantized value may differ by 1 at exact
ties; tests state how often they allow that.  The canonical conv step is
``[("affine", "m", "b"), ("round", lo, hi)]``: ``q = sat(rint(acc * m[c] + b[c]))``
clamped to the fused activation's range.
"""

from __future__ import annotations

import numpy as np

F32 = np.float32


def _sigmoid(y):
    return F32(1) / (F32(1) + np.exp(-y))


def _softplus(y):
    # log(1 + exp(y)), written so large y does not overflow
    return np.maximum(y, F32(0)) + np.log1p(np.exp(-np.abs(y)))


def _erf(y):
    from gpu_int8.ops.elementwise import erf

    return erf(y)


#: activation kind -> float32 formula (params: floats, or for prelu a per-channel constant)
ACTIVATIONS = {
    "relu": lambda y, p: np.maximum(y, F32(0)),
    "clamp": lambda y, p: np.minimum(np.maximum(y, F32(p["min"])), F32(p["max"])),
    # x * min(max(x + 3, 0), 6) * (1/6)
    "hswish": lambda y, p: y * np.minimum(np.maximum(y + F32(3), F32(0)), F32(6)) * F32(1 / 6),
    "hsigmoid": lambda y, p: np.minimum(np.maximum(y + F32(3), F32(0)), F32(6)) * F32(1 / 6),
    "hard_sigmoid": lambda y, p: np.minimum(np.maximum(F32(p["alpha"]) * y + F32(p["beta"]), F32(0)), F32(1)),
    "sigmoid": lambda y, p: _sigmoid(y),
    # x * sigmoid(beta * x) computed as x / (1 + exp(-beta * x))
    "swish": lambda y, p: y / (F32(1) + np.exp(-(F32(p.get("beta", 1.0)) * y))),
    "tanh": lambda y, p: np.tanh(y),
    "gelu_erf": lambda y, p: F32(0.5) * y * (F32(1) + _erf(y * F32(1 / np.sqrt(2)))),
    "gelu_tanh": lambda y, p: F32(0.5) * y * (F32(1) + np.tanh(F32(np.sqrt(2 / np.pi))
                                                            * (y + F32(0.044715) * y * y * y))),
    "elu": lambda y, p: np.where(y > 0, y, F32(p["alpha"]) * (np.exp(y) - F32(1))),
    "prelu": lambda y, p: np.where(y < 0, y * p["slope"], y),
    "mish": lambda y, p: y * np.tanh(_softplus(y)),
    "softplus": lambda y, p: _softplus(y),
}


def per_channel(vector: np.ndarray, ndim: int, axis: int | None) -> np.ndarray:
    """A length-1 or length-C float32 vector shaped to broadcast along ``axis`` of an ``ndim`` array."""
    vector = np.asarray(vector, F32).reshape(-1)
    if vector.size == 1 or axis is None:
        return vector.reshape(())
    shape = [1] * ndim
    shape[axis] = vector.size
    return vector.reshape(shape)


def run_epilogue(y: np.ndarray, program: list, consts: dict[str, np.ndarray], inputs: list[np.ndarray],
                 axis: int | None) -> np.ndarray:
    """Apply ``program`` to the float32 start value ``y`` (see the module docstring)."""
    y = np.asarray(y, F32)

    def vec(key):
        return per_channel(consts[key], y.ndim, axis)

    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for ins in program:
            op = ins[0]
            if op == "affine":
                y = y * vec(ins[1]) + vec(ins[2])
            elif op == "act":
                params = dict(ins[2])
                if "slope" in params:
                    params["slope"] = vec(params["slope"])
                y = ACTIVATIONS[ins[1]](y, params).astype(F32, copy=False)
            elif op in ("add", "mul"):
                other = inputs[ins[1]].astype(F32) * vec(ins[2]) + vec(ins[3])
                y = y + other if op == "add" else y * other
            elif op == "round":
                y = np.minimum(np.maximum(np.rint(y), F32(ins[1])), F32(ins[2]))
            else:
                raise ValueError(f"unknown epilogue instruction {op!r}")
    return y


def check_program(program: list, consts: dict, n_inputs: int) -> None:
    """Raise ValueError unless ``program`` is well formed for a step with these constants and inputs."""
    for ins in program:
        op = ins[0] if ins else None
        if op == "affine" and len(ins) == 3:
            keys = ins[1:]
        elif op == "act" and len(ins) == 3 and ins[1] in ACTIVATIONS and isinstance(ins[2], dict):
            keys = [ins[2]["slope"]] if "slope" in ins[2] else []
        elif op in ("add", "mul") and len(ins) == 4 and isinstance(ins[1], int) and 0 <= ins[1] < n_inputs:
            keys = ins[2:]
        elif op == "round" and len(ins) == 3 and ins[1] <= ins[2]:
            keys = []
        else:
            raise ValueError(f"malformed epilogue instruction {ins!r}")
        for key in keys:
            if key not in consts:
                raise ValueError(f"epilogue instruction {ins!r} names a missing constant '{key}'")
