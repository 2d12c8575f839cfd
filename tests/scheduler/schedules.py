"""Hand-made quantized schedules for the plan tests: every step kind and kernel path
in a few small graphs, with seeded random int8 weights and realistic scales."""

from __future__ import annotations

import numpy as np

from gpu_int8.schedule import Schedule, Step, Tensor

INT_RANGES = {"u8": (0, 255), "i8": (-128, 127)}


class ScheduleBuilder:
    """Appends steps and tensors; each method returns the new tensor's name."""

    def __init__(self, name: str, seed: int = 0):
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.tensors: dict[str, Tensor] = {}
        self.steps: list[Step] = []
        self.inputs: list[str] = []
        self.outputs: list[str] = []

    def build(self) -> Schedule:
        s = Schedule(self.name, self.tensors, self.steps, self.inputs, self.outputs)
        s.check()
        return s

    def _tensor(self, name, shape, dtype, scale=None, zp=None, axis=None) -> str:
        self.tensors[name] = Tensor(name, tuple(shape), dtype, scale, zp, axis)
        return name

    def _step(self, name, kind, inputs, outputs, attrs=None, consts=None, epilogue=None, axis=None) -> None:
        self.steps.append(Step(name, kind, list(inputs), list(outputs), dict(attrs or {}), dict(consts or {}),
                               [list(i) for i in (epilogue or [])], axis))

    def shape(self, t: str) -> tuple:
        return self.tensors[t].shape

    def vec(self, size, lo, hi) -> np.ndarray:
        return self.rng.uniform(lo, hi, size).astype(np.float32)

    # -- boundary steps ------------------------------------------------------------------
    def input(self, name, shape) -> str:
        self.inputs.append(name)
        return self._tensor(name, shape, "f32")

    def quantize(self, x, name, dtype="u8", scale=0.05, zp=128) -> str:
        lo, hi = INT_RANGES[dtype]
        self._tensor(name, self.shape(x), dtype, np.float32([scale]), np.float32([zp]))
        self._step(name, "quantize", [x], [name], consts={"m": np.float32([1 / scale]), "b": np.float32([zp])},
                   epilogue=[("affine", "m", "b"), ("round", lo, hi)])
        return name

    def dequantize(self, x, name) -> str:
        t = self.tensors[x]
        self._tensor(name, t.shape, "f32")
        self._step(name, "dequantize", [x], [name], consts={"m": t.scale, "b": -t.zero_point * t.scale},
                   epilogue=[("affine", "m", "b")])
        return name

    def requantize(self, x, name, dtype="i8", other=None, op="add", act=None) -> str:
        """y = round(float(x) * m + b [op (other * m2 + b2)] [act]), per channel when C > 1."""
        shape = self.shape(x)
        c = shape[1]
        consts = {"m": self.vec(c, 0.4, 0.8), "b": self.vec(c, -20, 20), "m2": self.vec(1, 0.3, 0.6),
                  "b2": self.vec(1, -5, 5)}
        program = [("affine", "m", "b")]
        inputs = [x]
        if other is not None:
            inputs.append(other)
            program.append((op, 1, "m2", "b2"))
            if op == "mul":
                consts["m"] *= np.float32(0.01)
        if act:
            program.append(("act", act, {}))
        program.append(("round", *INT_RANGES[dtype]))
        self._tensor(name, shape, dtype)
        self._step(name, "requantize", inputs, [name], consts=consts, epilogue=program, axis=1)
        return name

    # -- compute steps ------------------------------------------------------------------
    def conv(self, x, name, cout, k=3, stride=1, pad=0, dilation=1, groups=1, dtype="u8", act=None,
             residual=None, out_f32=False) -> str:
        n, c, h, w = self.shape(x)
        zp = int(self.tensors[x].zero_point[0]) if self.tensors[x].zero_point is not None else 0
        cg, og = c // groups, cout // groups
        weights = self.rng.integers(-4, 5, (groups, og, cg, k, k)).astype(np.int8)
        kk = cg * k * k
        comp = (-zp * weights.reshape(cout, -1).astype(np.int64).sum(1) + self.rng.integers(-50, 50, cout))
        span = dilation * (k - 1) + 1
        oh, ow = (h + 2 * pad - span) // stride + 1, (w + 2 * pad - span) // stride + 1
        consts = {"w": weights, "comp": comp.astype(np.int32), "m": self.vec(cout, 0.5, 1.5) * np.float32(1.0 / kk),
                  "b": self.vec(cout, -10, 10)}
        program = [("affine", "m", "b")]
        inputs = [x]
        if act:
            program.append(("act", act, {"min": -20.0, "max": 50.0} if act == "clamp" else {}))
        if residual is not None:
            inputs.append(residual)
            consts.update({"rm": self.vec(1, 0.5, 1.0), "rb": self.vec(1, -3, 3)})
            program.append(("add", 1, "rm", "rb"))
        if not out_f32:
            program.append(("round", *INT_RANGES[dtype]))
        self._tensor(name, (n, cout, oh, ow), "f32" if out_f32 else dtype, np.float32([0.05]), np.float32([0]))
        attrs = {"strides": [stride] * 2, "dilations": [dilation] * 2, "pads_begin": [pad] * 2,
                 "pads_end": [pad] * 2, "pad_value": zp, "group": groups, "out_sizes": [oh, ow]}
        self._step(name, "conv", inputs, [name], attrs, consts, program, axis=1)
        return name

    def deconv(self, x, name, cout, k=2, stride=2, dtype="u8", act=None, out_f32=False) -> str:
        n, c, h, w = self.shape(x)
        weights = self.rng.integers(-4, 5, (1, c, cout, k, k)).astype(np.int8)
        oh, ow = stride * (h - 1) + k, stride * (w - 1) + k
        consts = {"w": weights, "comp": self.rng.integers(-100, 100, cout).astype(np.int32),
                  "m": self.vec(cout, 0.05, 0.15), "b": self.vec(cout, 0, 40)}
        self._tensor(name, (n, cout, oh, ow), "f32" if out_f32 else dtype)
        attrs = {"strides": [stride] * 2, "dilations": [1, 1], "pads_begin": [0, 0], "pads_end": [0, 0],
                 "output_padding": [0, 0]}
        program = [("affine", "m", "b")] + ([("act", act, {})] if act else [])
        program += [] if out_f32 else [("round", *INT_RANGES[dtype])]
        self._step(name, "deconv", [x], [name], attrs, consts, program, axis=1)
        return name

    def matmul(self, a, name, n_out=None, b=None, out_f32=True, transpose_b=False, transpose_a=False) -> str:
        shape = self.shape(a)
        if transpose_a:
            shape = shape[:-2] + (shape[-1], shape[-2])
        k = shape[-1]
        consts = {"m": self.vec(1, 0.005, 0.01), "b": self.vec(1, -1, 1)}
        inputs = [a]
        if b is None:
            w = self.rng.integers(-20, 21, (n_out, k) if transpose_b else (k, n_out)).astype(np.int8)
            consts["w"] = w
            consts["m"] = self.vec(n_out, 0.001, 0.002)
            consts["comp"] = self.rng.integers(-100, 100, n_out).astype(np.int32)
        else:
            inputs.append(b)
            n_out = self.shape(b)[-2] if transpose_b else self.shape(b)[-1]
        out_shape = tuple(shape[:-1]) + (n_out,)
        program = [("affine", "m", "b")] + ([] if out_f32 else [("round", -128, 127)])
        self._tensor(name, out_shape, "f32" if out_f32 else "i8")
        self._step(name, "matmul", inputs, [name], {"transpose_a": transpose_a, "transpose_b": transpose_b}, consts,
                   program, axis=len(out_shape) - 1 if b is None else None)
        return name

    def avg_pool(self, x, name, k=3, stride=1, pad=1, exclude_pad=False, ceil=False, per_channel=False) -> str:
        n, c, h, w = self.shape(x)
        zp = int(self.tensors[x].zero_point[0]) if self.tensors[x].zero_point is not None else 0
        span = h + 2 * pad - k
        oh = (-(-span // stride) if ceil else span // stride) + 1
        span = w + 2 * pad - k
        ow = (-(-span // stride) if ceil else span // stride) + 1
        dtype = self.tensors[x].dtype
        self._tensor(name, (n, c, oh, ow), dtype, self.tensors[x].scale, self.tensors[x].zero_point)
        attrs = {"kernel": [k, k], "strides": [stride] * 2, "pads_begin": [pad] * 2, "pads_end": [pad] * 2,
                 "exclude_pad": exclude_pad, "pad_value": zp, "out_sizes": [oh, ow]}
        consts = {"m": self.vec(c, 0.8, 1.2), "b": self.vec(c, -5, 5)} if per_channel else \
            {"m": np.float32([1.0]), "b": np.float32([0.0])}
        self._step(name, "avg_pool", [x], [name], attrs, consts, [("affine", "m", "b"), ("round", *INT_RANGES[dtype])],
                   axis=1 if per_channel else None)
        return name

    def reduce_mean(self, x, name, axes=(2, 3), keep_dims=True, dtype="u8", per_channel=False) -> str:
        shape = self.shape(x)
        out = [1 if i in axes else d for i, d in enumerate(shape)] if keep_dims else \
            [d for i, d in enumerate(shape) if i not in axes]
        self._tensor(name, out, dtype)
        size = shape[1] if per_channel else 1  # per_channel: a scale and shift per channel (axis 1)
        self._step(name, "reduce_mean", [x], [name], {"axes": list(axes), "keep_dims": keep_dims},
                   {"m": self.vec(size, 0.5, 1.5), "b": self.vec(size, -20, 20)},
                   [("affine", "m", "b"), ("round", *INT_RANGES[dtype])], axis=1 if per_channel else None)
        return name

    def op(self, kind, op_type, inputs, name, out_shapes, out_dtype, attrs=None, consts=(), n_out=1) -> list[str]:
        """A move or float step running ``op_type`` on tensors ``inputs`` then constant args."""
        args = [["t", t] for t in inputs]
        step_consts = {}
        for j, c in enumerate(consts):
            step_consts[f"in{len(inputs) + j}"] = np.asarray(c)
            args.append(["c", f"in{len(inputs) + j}"])
        names = [name if i == 0 else f"{name}:{i}" for i in range(n_out)]
        for nm, shape, dt in zip(names, out_shapes, out_dtype if isinstance(out_dtype, list) else [out_dtype] * n_out):
            self._tensor(nm, shape, dt)
        self._step(name, kind, list(dict.fromkeys(inputs)), names,
                   {"op_type": op_type, "op_attrs": dict(attrs or {}), "args": args}, step_consts)
        return names


def zoo(batch: int = 2) -> Schedule:
    """One schedule through every step kind and kernel path."""
    i64 = np.int64
    s = ScheduleBuilder("zoo")
    x = s.input("x", (batch, 3, 17, 19))
    q = s.quantize(x, "q0", "u8", 0.02, 128)
    c1 = s.conv(q, "c1", 16, k=3, stride=2, pad=1, act="relu")                       # family conv, fused
    c2 = s.conv(c1, "c2", 16, k=3, pad=1, groups=16, dtype="i8", act="hswish")      # depthwise + epilogue
    c3 = s.conv(c2, "c3", 24, k=1, dtype="i8", act="clamp")                          # 1x1, clamp folds
    c4 = s.conv(c3, "c4", 24, k=3, pad=2, dilation=2, groups=2, dtype="i8", residual=c3)  # grouped + residual
    mp = s.op("move", "MaxPool", [c4], "mp", [(batch, 24, 5, 5), (batch, 24, 5, 5)], ["i8", "i64"],
              {"kernel": [2, 2], "strides": [2, 2], "pads_begin": [0, 0], "pads_end": [0, 0],
               "rounding_type": "ceil", "opset": 8, "dilations": [1, 1]}, n_out=2)[0]
    ap = s.avg_pool(c4, "ap", k=3, stride=1, pad=1, exclude_pad=False)
    ap2 = s.avg_pool(c4, "ap2", k=3, stride=2, pad=1, exclude_pad=True, ceil=True)
    cat = s.op("move", "Concat", [c4, ap], "cat", [(batch, 48, 9, 10)], "i8", {"axis": 1})[0]
    se = s.reduce_mean(cat, "se", dtype="i8")
    rq = s.requantize(cat, "rq", "u8", other=se, op="mul")
    rq2 = s.requantize(rq, "rq2", "i8", other=c4, op="add", act="relu") if False else s.requantize(rq, "rq2", "i8")
    dc = s.deconv(rq2, "dc", 8)
    pad = s.op("move", "Pad", [dc], "pad", [(batch, 8, 21, 22)], "u8", {"pad_mode": "constant"},
               [np.array([0, 0, 1, 1], i64), np.array([0, 0, 2, 1], i64), np.array(9, np.uint8)])[0]
    tr = s.op("move", "Transpose", [pad], "tr", [(batch, 21, 22, 8)], "u8", {}, [np.array([0, 2, 3, 1], i64)])[0]
    sl = s.op("move", "StridedSlice", [tr], "sl", [(batch, 10, 11, 8)], "u8",
              {"begin_mask": [1, 0, 0, 1], "end_mask": [1, 0, 0, 1]},
              [np.array([0, 20, 0, 0], i64), np.array([0, 0, 22, 0], i64), np.array([1, -2, 2, 1], i64)])[0]
    gp = s.reduce_mean(mp, "gp", keep_dims=False, dtype="i8")
    fc = s.matmul(gp, "fc", n_out=10, transpose_b=True)                                # family GEMM, f32 out
    sm = s.op("float", "Softmax", [fc], "sm", [(batch, 10)], "f32", {"axis": 1, "opset": 8})[0]
    a3 = s.op("move", "Reshape", [sl], "a3", [(batch * 10, 11, 8)], "u8", {"special_zero": False},
              [np.array([batch * 10, 11, 8], i64)])[0]
    b3 = s.op("move", "Transpose", [a3], "b3", [(batch * 10, 8, 11)], "u8", {}, [np.array([0, 2, 1], i64)])[0]
    mm = s.matmul(a3, "mm", b=b3, out_f32=False)                                       # int8 x int8, rows of 11
    mtb = s.matmul(a3, "mtb", b=a3, out_f32=False, transpose_b=True)                   # B^T: one output per item
    a4 = s.op("move", "Reshape", [tr], "a4", [(batch * 14, 24, 11)], "u8", {"special_zero": False},
              [np.array([batch * 14, 24, 11], i64)])[0]
    b4 = s.op("move", "Reshape", [pad], "b4", [(batch * 14, 11, 24)], "u8", {"special_zero": False},
              [np.array([batch * 14, 11, 24], i64)])[0]
    mw = s.matmul(a4, "mw", b=b4, out_f32=False)                 # rows in chunks of 8 (or all 24 at once)
    mt = s.matmul(b3, "mt", n_out=6, out_f32=False, transpose_a=True)                # A^T copy, then GEMM
    d3 = s.deconv(rq2, "d3", 4, k=3, stride=2)                                         # overlapping taps: direct
    fl = s.dequantize(ap2, "fl")
    sq = s.op("float", "Sqrt", [fl], "sq", [s.shape(fl)], "f32")[0]                    # no kernel: host
    ab = s.op("float", "Abs", [fl], "ab", [s.shape(fl)], "f32")[0]
    act = s.op("float", "Sigmoid", [ab], "act", [s.shape(fl)], "f32")[0]               # float activation kernel
    mvn = s.op("float", "MVN", [fl], "mvn", [s.shape(fl)], "f32",                       # layer-norm statistics
               {"eps": 1e-5, "normalize_variance": True, "eps_mode": "INSIDE_SQRT", "opset": 6},
               [np.array([-1, -2], i64)])[0]
    mvn2 = s.op("float", "MVN", [ab], "mvn2", [s.shape(fl)], "f32",
                {"eps": 0.25, "normalize_variance": True, "eps_mode": "OUTSIDE_SQRT", "opset": 6},
                [np.array([3], i64)])[0]
    # (the attentions read no MVN output: normalizing amplifies float32 rounding differences,
    # which the plan tests compare with a tolerance of their own)
    att = s.op("float", "ScaledDotProductAttention", [fl, ab, act], "att", [s.shape(fl)], "f32",
               {"causal": False, "opset": 13}, [np.array(0.5, np.float32), np.array(0.7, np.float32)])[0]
    att2 = s.op("float", "ScaledDotProductAttention", [ab, fl, act], "att2", [s.shape(fl)], "f32",
                {"causal": True, "opset": 13})[0]
    flr = s.op("move", "Reshape", [fl], "flr", [(batch * 6, 120)], "f32", {"special_zero": False},
               [np.array([batch * 6, 120], i64)])[0]
    sm2 = s.op("float", "Softmax", [flr], "sm2", [(batch * 6, 120)], "f32", {"axis": 1, "opset": 8})[0]  # 7x16 + 8
    sm3 = s.op("float", "Softmax", [fl], "sm3", [s.shape(fl)], "f32", {"axis": 1, "opset": 8})[0]  # not the last axis
    s.outputs = [sm, mm, mtb, mw, sq, act, rq2, mt, d3, att, att2, mvn, mvn2, sm2, sm3]
    return s.build()
