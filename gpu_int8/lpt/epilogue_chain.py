"""An epilogue under construction: the step it will become and the program
that grows as the builder fuses the ops after an int8 op.

A chain starts at an accumulating op (convolution, matmul, pooling) or at a
stored tensor (int8: requantize/dequantize; float: quantize) and collects
elementwise ops until a consumer cannot be fused; then it becomes a step.
``round`` instructions mark where the chain's value is an integer tensor of
the graph (a quantize point): the chain can stop there and store it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

F32 = np.float32


@dataclass
class Checkpoint:
    """After instruction ``position`` the chain holds the integer value ``value``."""

    position: int
    value: str
    dtype: np.dtype


@dataclass
class Chain:
    """A step in the making; ``value`` is the graph value it currently stands for."""

    value: str
    shape: tuple
    kind: str  # conv, deconv, matmul, avg_pool, reduce_mean, or "convert" (starts from its input 0)
    inputs: list[str]
    attrs: dict = field(default_factory=dict)
    consts: dict = field(default_factory=dict)
    program: list = field(default_factory=list)
    axis: int | None = None
    absorbed: list = field(default_factory=list)
    comp: np.ndarray | None = None  # int64 per-channel accumulator offset (accumulating kinds)
    checkpoints: list[Checkpoint] = field(default_factory=list)
    serial: int = 0  # numbers constant keys

    @property
    def duplicable(self) -> bool:
        """Elementwise on a stored tensor: each consumer may take its own copy."""
        return self.kind == "convert"

    @property
    def accumulates(self) -> bool:
        return self.kind in ("conv", "deconv", "matmul")

    def copy(self) -> Chain:
        dup = copy.copy(self)
        dup.inputs, dup.program, dup.absorbed = list(self.inputs), list(self.program), list(self.absorbed)
        dup.consts, dup.checkpoints = dict(self.consts), list(self.checkpoints)
        return dup

    # -- per-channel vectors ----------------------------------------------------
    def fit_axis(self, axis: int | None) -> bool:
        """Adopt per-channel ``axis`` if the chain has none yet; False when it has another."""
        if axis is None or axis == self.axis:
            return True
        if self.axis is None:
            self.axis = axis
            return True
        return False

    def vector(self, key: str) -> np.ndarray:
        return np.asarray(self.consts[key], np.float64).reshape(-1)

    def add_vector(self, prefix: str, values) -> str:
        self.serial += 1
        key = f"{prefix}{self.serial}"
        self.consts[key] = np.asarray(values, F32).reshape(-1)
        return key

    # -- instructions -------------------------------------------------------------
    def affine(self, m, b) -> None:
        """Append ``y = y * m + b``, merged into a preceding affine instruction."""
        m = np.asarray(m, np.float64).reshape(-1)
        b = np.asarray(b, np.float64).reshape(-1)
        if self.program and self.program[-1][0] == "affine":
            _, km, kb = self.program.pop()
            m0, b0 = self.vector(km), self.vector(kb)
            m, b = m0 * m, b0 * m + b
            del self.consts[km], self.consts[kb]
        self.program.append(["affine", self.add_vector("m", m), self.add_vector("b", b)])

    def activation(self, kind: str, params: dict) -> None:
        self.program.append(["act", kind, params])

    def round(self, lo: int, hi: int, value: str, dtype) -> None:
        self.program.append(["round", int(lo), int(hi)])
        self.checkpoints.append(Checkpoint(len(self.program) - 1, value, np.dtype(dtype)))

    def last_checkpoint(self) -> Checkpoint | None:
        """The latest checkpoint if only affine instructions follow it."""
        if not self.checkpoints:
            return None
        cp = self.checkpoints[-1]
        if all(ins[0] == "affine" for ins in self.program[cp.position + 1:]):
            return cp
        return None

    def tail_affine(self, start: int) -> tuple[np.ndarray, np.ndarray]:
        """The affine instructions from ``start`` on, composed into one (m, b)."""
        m, b = np.ones(1), np.zeros(1)
        for ins in self.program[start:]:
            mi, bi = self.vector(ins[1]), self.vector(ins[2])
            m, b = m * mi, b * mi + bi
        return m, b

    def truncate(self, position: int) -> None:
        """Keep instructions up to ``position``; drop constants no longer used."""
        self.program = self.program[:position + 1]
        self.checkpoints = [c for c in self.checkpoints if c.position <= position]
        used = {k for ins in self.program for k in _keys(ins)}
        self.consts = {k: v for k, v in self.consts.items() if k in used or k in ("w",)}

    # -- final form -----------------------------------------------------------------
    def finish(self, clamp_branches: bool = False) -> None:
        """Fold clamping activations into rounding bounds, store ``comp`` as int32 (the chain is
        complete: checkpoints no longer matter).  ``clamp_branches``: see
        :meth:`_clamp_unstored_quantize_points`."""
        self.checkpoints = []
        while self._fold_clamp_into_round():
            pass
        if clamp_branches and self.kind == "conv":
            self._clamp_unstored_quantize_points()
        self._scale_operands_instead()
        if self.comp is not None:
            comp = np.asarray(self.comp, np.int64).reshape(-1)
            if np.any(comp != 0):
                if np.any(np.abs(comp) >= 2**31):
                    raise ValueError("accumulator offset exceeds int32")
                self.consts["comp"] = comp.astype(np.int32)
        used = {"w", "comp"} | {k for ins in self.program for k in _keys(ins)}
        self.consts = {k: v for k, v in self.consts.items() if k in used}

    def _clamp_unstored_quantize_points(self) -> None:
        """A quantize point in front of a residual add inside a convolution step (the
        FakeQuantize on the branch, before the sum) clamps to its integer range but does not
        round: the value is never stored, and this is what OpenVINO's CPU plugin computes when
        it fuses conv + FakeQuantize + Add into one convolution with a sum post-op (crop and
        scales, no rounding).  Measured on NNCF ResNet-50 against OpenVINO's fused blocks:
        rounding there moves 7% of a block's stored values by one step, clamping moves none
        beyond float32 ties.  MatMul steps keep the rounding: OpenVINO runs their add as a
        separate eltwise that reads the rounded branch.  Every other ``round`` stays.  Only for
        models whose int8 runtime is OpenVINO (FakeQuantize IR): ONNX Runtime runs a QDQ model's
        QLinearConv and QLinearAdd apart, on the rounded branch (QDQ ResNet-50 against ONNX
        Runtime: mean cosine 0.982 rounding, 0.961 clamping)."""
        for i, ins in enumerate(self.program[:-1]):
            if ins[0] == "round" and any(later[0] == "add" for later in self.program[i + 1:]):
                self.program[i] = ["act", "clamp", {"min": float(ins[1]), "max": float(ins[2])}]

    def _fold_clamp_into_round(self) -> bool:
        """[act relu|clamp, affine(m > 0, b)?, round(lo, hi)] -> [affine, round(lo', hi')]: rint and a
        monotone increasing map commute with clamping, so clamping moves to the integers."""
        p = self.program
        for i, ins in enumerate(p):
            if ins[0] != "act" or ins[1] not in ("relu", "clamp"):
                continue
            j = i + 1
            m, b = np.ones(1, F32), np.zeros(1, F32)
            if j < len(p) and p[j][0] == "affine":
                m, b = self.consts[p[j][1]], self.consts[p[j][2]]
                j += 1
            if j >= len(p) or p[j][0] != "round" or not np.all(m > 0):
                continue
            lo_real = 0.0 if ins[1] == "relu" else float(ins[2]["min"])
            hi_real = np.inf if ins[1] == "relu" else float(ins[2]["max"])
            with np.errstate(invalid="ignore", over="ignore"):
                lo = np.rint(F32(lo_real) * m + b)
                hi = np.rint(F32(hi_real) * m + b)
            if np.any(lo != lo[0]) or np.any(hi != hi[0]):
                continue
            new_lo = int(max(p[j][1], lo[0]))
            new_hi = int(min(p[j][2], hi[0])) if np.isfinite(hi[0]) else p[j][2]
            if new_lo > new_hi:
                continue
            p[j] = ["round", new_lo, new_hi]
            del p[i]
            self._merge_affines()
            return True
        return False

    def _scale_operands_instead(self) -> None:
        """[add(k, rm, rb), affine(m, b)] -> [affine(m, 0), add(k, rm*m, rb*m + b)]: the scale moves
        in front of the add, where it merges with the affine before it."""
        p = self.program
        i = 0
        while i + 1 < len(p):
            if p[i][0] == "add" and p[i + 1][0] == "affine":
                m, b = self.vector(p[i + 1][1]), self.vector(p[i + 1][2])
                rm, rb = self.vector(p[i][2]), self.vector(p[i][3])
                add = ["add", p[i][1], self.add_vector("m", rm * m), self.add_vector("b", rb * m + b)]
                p[i:i + 2] = [["affine", self.add_vector("m", m), self.add_vector("b", np.zeros_like(m))], add]
                self._merge_affines()
                p = self.program
                i = 0
                continue
            i += 1

    def _merge_affines(self) -> None:
        out = []
        for ins in self.program:
            if out and ins[0] == "affine" and out[-1][0] == "affine":
                m0, b0 = self.vector(out[-1][1]), self.vector(out[-1][2])
                m1, b1 = self.vector(ins[1]), self.vector(ins[2])
                out[-1] = ["affine", self.add_vector("m", m0 * m1), self.add_vector("b", b0 * m1 + b1)]
            else:
                out.append(ins)
        self.program = out

    def fold_bias(self, bias) -> bool:
        """Add ``bias`` to the accumulator as int32 when it lies on the accumulator's grid:
        (acc * m) + bias == (acc + t) * m exactly, t = bias / m an integer.  Only right after the
        accumulator's scale; False (nothing changed) otherwise."""
        if not self.accumulates or len(self.program) != 1 or self.program[0][0] != "affine":
            return False
        m, b = self.consts[self.program[0][1]], self.consts[self.program[0][2]]
        bias = np.broadcast_to(np.asarray(bias, F32).reshape(-1), m.shape)
        if np.any(b != 0) or np.any(m == 0) or not np.any(bias != 0):
            return False
        t = np.rint(bias.astype(np.float64) / m.astype(np.float64))
        if np.any(np.abs(t) >= 2**30) or not np.array_equal((t.astype(F32) * m).astype(F32), bias):
            return False
        self.comp = (0 if self.comp is None else self.comp) + t.astype(np.int64)
        return True


def _keys(ins) -> list[str]:
    if ins[0] == "affine":
        return [ins[1], ins[2]]
    if ins[0] in ("add", "mul"):
        return [ins[2], ins[3]]
    if ins[0] == "act" and "slope" in ins[2]:
        return [ins[2]["slope"]]
    return []
