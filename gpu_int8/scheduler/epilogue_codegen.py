"""OpenCL C for a step's requantization epilogue (:mod:`gpu_int8.schedule.epilogue`).

:func:`epilogue_function` turns an epilogue program into one inline function

``float NAME(float y, int c, __global const float *k, float in1, ...)``

that applies the program to ``y`` for an element of output channel ``c``.  Scalar
constants become exact hexadecimal float literals; per-channel vectors are read
from ``k`` (the step's constant buffer, built by :class:`EpilogueCode`) at fixed
offsets.  The arguments ``in<k>`` are the raw values of the step inputs that
``add``/``mul`` instructions read (the caller loads them, converted to float).

The generated code computes what :func:`~gpu_int8.schedule.epilogue.run_epilogue`
computes: every ``*`` and ``+`` is one float32 operation in the same order
(the source carries ``#pragma OPENCL FP_CONTRACT OFF``, so no multiply-add is
contracted into an fma), ``rint`` rounds half to even, and activations use the
same formulas.  Transcendental functions (exp, tanh, erf, log1p) are the
device's, within OpenCL's ulp bounds, so after ``round`` a value can differ by
one at a near tie.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gpu_int8.schedule.epilogue import ACTIVATIONS, check_program

#: file-scope pragma every generated source starts with
PRAGMA = "#pragma OPENCL FP_CONTRACT OFF\n"


def float_literal(value: float) -> str:
    """An OpenCL C float literal equal to ``float32(value)`` bit for bit."""
    v = float(np.float32(value))
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "(-INFINITY)"
    text = v.hex() + "f"
    return f"({text})" if text.startswith("-") else text


@dataclass
class EpilogueCode:
    """The OpenCL source of one epilogue function and the constants it reads.

    ``consts`` is the float32 array to upload as the function's ``k`` argument
    (empty when every constant is a scalar literal); ``inputs`` lists the step
    input numbers the function takes as ``in<k>`` arguments, in order.
    """

    name: str
    source: str
    consts: np.ndarray
    inputs: list[int] = field(default_factory=list)

    def call(self, y: str, c: str, k: str, input_values: dict[int, str]) -> str:
        """A call expression: ``NAME(y, c, k, <value of in_j>...)``."""
        args = [y, c, k] + [input_values[j] for j in self.inputs]
        return f"{self.name}({', '.join(args)})"


class _Consts:
    """Per-channel vectors packed into one float32 array; scalars inlined."""

    def __init__(self, consts: dict[str, np.ndarray], channels: int | None, inline_scalars: bool, width: int = 1):
        self.consts, self.channels, self.inline_scalars, self.width = consts, channels, inline_scalars, width
        self.offsets: dict[str, int] = {}
        self.parts: list[np.ndarray] = []
        self.size = 0

    def ref(self, key: str) -> str:
        v = np.asarray(self.consts[key], np.float32).reshape(-1)
        if v.size == 1 and self.inline_scalars:
            return float_literal(v[0])
        if v.size > 1 and self.channels is not None and v.size != self.channels:
            raise ValueError(f"epilogue constant '{key}' has {v.size} values for {self.channels} channels")
        if key not in self.offsets:
            self.offsets[key] = self.size
            self.parts.append(v)
            self.size += v.size
        if v.size == 1:
            return f"k[{self.offsets[key]}]"
        if self.width > 1:  # channels c .. c+width-1
            return f"vload{self.width}(0, k + {self.offsets[key]} + c)"
        return f"k[{self.offsets[key]} + c]"

    def array(self) -> np.ndarray:
        return np.concatenate(self.parts).astype(np.float32) if self.parts else np.zeros(0, np.float32)


def _lit(x: float) -> str:
    return float_literal(x)


def activation_code(kind: str, params: dict, slope: str | None, T: str = "float") -> list[str]:
    """Statements applying activation ``kind`` to ``y`` (float32, the reference's operation order);
    ``T`` is the type of ``y``: float, or float8 for 8 channels at once.

    Clamps use ``min``/``max``, not ``fmin``/``fmax``: they differ only for NaN, which these
    finite values never are, and compile to one instruction where fmin/fmax order NaNs with
    three or four (PP-OCRv4 det on Intel's CPU runtime: 16% of its time)."""
    one, zero = _lit(1.0), _lit(0.0)
    if kind == "relu":
        return [f"y = max(y, {zero});"]
    if kind == "clamp":
        return [f"y = min(max(y, {_lit(params['min'])}), {_lit(params['max'])});"]
    if kind == "hswish":
        return [f"{{ {T} t = min(max(y + {_lit(3.0)}, {zero}), {_lit(6.0)}); y = y * t; y = y * {_lit(1 / 6)}; }}"]
    if kind == "hsigmoid":
        return [f"y = min(max(y + {_lit(3.0)}, {zero}), {_lit(6.0)}); y = y * {_lit(1 / 6)};"]
    if kind == "hard_sigmoid":
        return [f"{{ {T} t = {_lit(params['alpha'])} * y; t = t + {_lit(params['beta'])}; "
                f"y = min(max(t, {zero}), {one}); }}"]
    if kind == "sigmoid":
        return [f"{{ {T} e = exp(-y); e = {one} + e; y = {one} / e; }}"]
    if kind == "swish":
        beta = _lit(params.get("beta", 1.0))
        return [f"{{ {T} t = {beta} * y; {T} e = exp(-t); e = {one} + e; y = y / e; }}"]
    if kind == "tanh":
        return ["y = tanh(y);"]
    if kind == "gelu_erf":
        return [f"{{ {T} t = y * {_lit(1 / np.sqrt(2))}; t = erf(t); t = {one} + t; "
                f"{T} h = {_lit(0.5)} * y; y = h * t; }}"]
    if kind == "gelu_tanh":
        return [f"{{ {T} p = {_lit(0.044715)} * y; p = p * y; p = p * y; p = y + p; "
                f"p = {_lit(np.sqrt(2 / np.pi))} * p; p = tanh(p); p = {one} + p; "
                f"{T} h = {_lit(0.5)} * y; y = h * p; }}"]
    if kind == "elu":
        return [f"{{ {T} e = exp(y); e = e - {one}; e = {_lit(params['alpha'])} * e; y = y > {zero} ? y : e; }}"]
    if kind == "prelu":
        return [f"{{ {T} s = y * {slope}; y = y < {zero} ? s : y; }}"]
    if kind in ("softplus", "mish"):
        # max(y, 0) + log1p(exp(-|y|))
        sp = f"{T} sp = log1p(exp(-fabs(y))); sp = fmax(y, {zero}) + sp;"
        if kind == "softplus":
            return [f"{{ {sp} y = sp; }}"]
        return [f"{{ {sp} y = y * tanh(sp); }}"]
    raise ValueError(f"no OpenCL form for activation '{kind}'")


def epilogue_function(name: str, program: list, consts: dict[str, np.ndarray], n_inputs: int,
                      channels: int | None = None, inline_scalars: bool = True, width: int = 1,
                      round_in_store: bool = False) -> EpilogueCode:
    """The OpenCL function ``name`` applying ``program`` (see the module docstring).

    ``channels`` is the size of the step's channel axis (per-channel vectors
    must have that length); ``n_inputs`` the number of step inputs.  With
    ``inline_scalars`` false, scalar constants are read from ``k`` too, so
    steps whose programs differ only in constants share one function text.
    ``width`` 4, 8 or 16 makes ``y`` and the inputs ``float4`` / ``float8`` / ``float16``:
    channels ``c .. c+width-1`` at once (the same operations lane by lane).
    ``round_in_store``: the program's last ``round`` only clamps; the caller's store rounds the
    clamped value half to even (rounding commutes with a clamp to integer bounds).
    """
    if width not in (1, 4, 8, 16):
        raise ValueError("width must be 1, 4, 8 or 16")
    T = "float" if width == 1 else f"float{width}"
    check_program(program, consts, n_inputs)
    table = _Consts(consts, channels, inline_scalars, width)
    body: list[str] = []
    used: list[int] = []
    for ins in program:
        op = ins[0]
        if op == "affine":
            body.append(f"y = y * {table.ref(ins[1])}; y = y + {table.ref(ins[2])};")
        elif op == "act":
            params = dict(ins[2])
            slope = table.ref(params["slope"]) if "slope" in params else None
            if ins[1] not in ACTIVATIONS:
                raise ValueError(f"unknown activation '{ins[1]}'")
            body.extend(activation_code(ins[1], params, slope, T))
        elif op in ("add", "mul"):
            k = int(ins[1])
            if k not in used:
                used.append(k)
            sign = "+" if op == "add" else "*"
            body.append(f"{{ {T} o = in{k} * {table.ref(ins[2])}; o = o + {table.ref(ins[3])}; y = y {sign} o; }}")
        elif op == "round":
            value = "y" if round_in_store and ins is program[-1] else "rint(y)"
            body.append(f"y = min(max({value}, {_lit(ins[1])}), {_lit(ins[2])});")
    used.sort()
    params = [f"{T} y", "int c", "__global const float *k"] + [f"{T} in{k}" for k in used]
    lines = [f"inline {T} {name}({', '.join(params)}) {{", "#pragma OPENCL FP_CONTRACT OFF"]
    lines += ["    " + s for s in body]
    lines += ["    (void)c; (void)k;", "    return y;", "}"]
    return EpilogueCode(name, "\n".join(lines) + "\n", table.array(), used)


def canonical_requant(program: list, consts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """``(m, b, lo, hi)`` when ``program`` is ``affine, [relu|clamp], round``: what the plain
    requantizing kernels (``q = clamp(rint(acc * m + b), lo, hi)``) compute exactly.

    A relu or clamp before ``round`` folds into ``lo``/``hi`` because ``rint`` is
    monotone: ``rint(max(y, a)) == max(rint(y), rint(a))``.
    """
    if len(program) < 2 or program[0][0] != "affine" or program[-1][0] != "round":
        return None
    lo, hi = float(program[-1][1]), float(program[-1][2])
    for ins in program[1:-1]:
        if ins[0] != "act" or ins[1] not in ("relu", "clamp"):
            return None
        a, b = (0.0, math.inf) if ins[1] == "relu" else (ins[2]["min"], ins[2]["max"])
        lo = max(lo, float(np.rint(np.float32(a))))
        hi = min(hi, float(np.rint(np.float32(b))) if math.isfinite(b) else hi)
    if lo > hi:
        return None
    m = np.asarray(consts[program[0][1]], np.float32).reshape(-1)
    b = np.asarray(consts[program[0][2]], np.float32).reshape(-1)
    return m, b, int(lo), int(hi)
