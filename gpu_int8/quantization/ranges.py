"""Activation ranges from calibration runs, and the FakeQuantize limits they give.

Collectors watch values as the float reference computes them (pass their
``observe`` to ``FloatExecutor.run``).  Three ways to turn what they saw into a
range per activation:

* ``mse`` (the default): the clipping limit that minimizes the expected squared
  error of quantizing the values seen (rounding noise inside the range, clipping
  error outside it), found on a histogram of their magnitudes.  The thin tails of
  real activations clip (on PP-OCR det and ResNet-50 the median limit is 0.75 to
  0.8 of the largest magnitude seen) where every step of the tensor would otherwise
  grow for them.
* ``mean_max``: the sign from the lowest value seen, the magnitude from the mean
  over inputs of each input's largest absolute value.
* ``minmax``: the extremes over all inputs.

Activations that only depthwise convolutions read get a range per channel instead
(:meth:`Extrema.channel_ranges`), whatever the method.
"""

from __future__ import annotations

import numpy as np

METHODS = ("mse", "mean_max", "minmax")
#: the smallest range a FakeQuantize gets (an activation that is 0 on every calibration input)
TINY = np.float32(1e-6)
BINS = 2048


class Extrema:
    """Each input's minimum and maximum of the watched values: one number each, or one per
    channel (axis 1) for the values in ``per_channel``."""

    def __init__(self, names, per_channel=()):
        self.per_channel = set(per_channel)
        self.lows: dict[str, list] = {name: [] for name in names}
        self.highs: dict[str, list] = {name: [] for name in names}

    def observe(self, name: str, array: np.ndarray) -> None:
        if name in self.lows and array.size:
            axes = tuple(a for a in range(array.ndim) if a != 1) if name in self.per_channel else None
            self.lows[name].append(np.min(array, axis=axes).astype(np.float64))
            self.highs[name].append(np.max(array, axis=axes).astype(np.float64))

    def seen(self) -> list[str]:
        return [name for name, lows in self.lows.items() if lows]

    def low(self, name: str) -> np.ndarray:
        return np.min(self.lows[name], axis=0)

    def high(self, name: str) -> np.ndarray:
        return np.max(self.highs[name], axis=0)

    def signed(self, name: str) -> bool:
        return bool(np.any(self.low(name) < 0))

    def magnitude(self, name: str) -> np.ndarray:
        """The largest absolute value seen (per channel where watched so)."""
        return np.maximum(-self.low(name), self.high(name))

    def channel_ranges(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """(low, high) per channel of the values watched so: the largest magnitude seen in
        each channel, symmetric where any channel is negative.  Per-channel grids are fine
        enough that clipping a channel's largest values costs more than it saves (PP-OCR
        rec, cosine to float 0.978 with least-error clipping per channel, 0.986 without)."""
        out = {}
        for name in self.seen():
            if name in self.per_channel:
                a = self.magnitude(name)
                out[name] = (-a if self.signed(name) else np.zeros_like(a), a)
        return out

    def ranges(self, method: str) -> dict[str, tuple[float, float]]:
        """(low, high) per value seen, by ``minmax`` or ``mean_max`` (per-channel values:
        :meth:`channel_ranges`)."""
        out = {}
        for name in self.seen():
            if name in self.per_channel:
                continue
            lows, highs = self.lows[name], self.highs[name]
            if method == "minmax":
                out[name] = (float(np.min(lows)), float(np.max(highs)))
            elif not self.signed(name):
                out[name] = (0.0, float(np.mean(highs)))
            else:
                magnitude = float(np.mean(np.maximum(np.abs(lows), np.abs(highs))))
                out[name] = (-magnitude, magnitude)
        return out


class Histograms:
    """Histograms of |x| of the watched values over [0, largest magnitude seen] (a second
    calibration pass, once :class:`Extrema` knows the magnitudes); exact zeros counted
    apart, since quantization represents them exactly.  Values with a range per channel
    are left to :meth:`Extrema.channel_ranges`."""

    def __init__(self, extrema: Extrema):
        self.extrema = extrema
        self.limit = {name: float(extrema.magnitude(name)) for name in extrema.seen()
                      if name not in extrema.per_channel}
        self.counts = {name: np.zeros(BINS, np.int64) for name in self.limit}

    def observe(self, name: str, array: np.ndarray) -> None:
        if name in self.counts:
            _add(self.counts[name], array, self.limit[name])

    def ranges(self) -> dict[str, tuple[float, float]]:
        """(low, high) per value: the clipping limit with the least expected squared error,
        for the grid :func:`fake_quantize_limits` will put on it."""
        return {name: _tensor_range(counts, self.limit[name], float(self.extrema.low(name)),
                                    float(self.extrema.high(name)))
                for name, counts in self.counts.items()}


def _add(counts: np.ndarray, values: np.ndarray, limit: float) -> None:
    if limit > 0:
        counts += np.histogram(np.abs(values[values != 0]), BINS, (0.0, limit))[0]


def _tensor_range(counts: np.ndarray, limit: float, low: float, high: float) -> tuple[float, float]:
    """(low, high) for one range over the tensor, on the grid it will get."""
    if not counts.any():
        return min(low, 0.0), max(high, 0.0)
    if low >= 0:
        return 0.0, best_clip(counts, limit, 255)
    if skewed(low, high):  # the negative tail stays whole, the positive side clips
        return low, best_clip(counts, limit, 255, offset=-low)
    a = best_clip(counts, limit, 128)
    return -a, a


def best_clip(counts: np.ndarray, limit: float, steps: int, offset: float = 0.0) -> float:
    """The clipping magnitude a (a bin edge of the histogram ``counts`` over [0, limit])
    that minimizes sum(count * error²): ((a + offset) / steps)² / 12 for values inside
    [0, a], (|x| - a)² for values beyond it."""
    width = limit / len(counts)
    centers = (np.arange(len(counts)) + 0.5) * width
    candidates = np.arange(1, len(counts) + 1) * width
    inside = np.cumsum(counts)  # values at or below each candidate edge
    # sum over bins beyond each edge of count * (center - a)^2, expanded in powers of a
    c0 = np.cumsum((counts * centers ** 2)[::-1])[::-1]
    c1 = np.cumsum((counts * centers)[::-1])[::-1]
    c2 = np.cumsum(counts[::-1])[::-1]
    beyond = np.zeros(len(counts))
    beyond[:-1] = (c0[1:] - 2 * candidates[:-1] * c1[1:] + candidates[:-1] ** 2 * c2[1:])
    error = inside * ((candidates + offset) / steps) ** 2 / 12 + beyond
    return float(candidates[int(np.argmin(error))])


def shared(ranges: dict[str, tuple[float, float]], groups: list[set[str]]) -> dict[str, tuple[float, float]]:
    """``ranges`` with each group's members widened to the group's union."""
    out = dict(ranges)
    for group in groups:
        seen = [ranges[n] for n in group if n in ranges]
        if seen:
            union = (min(lo for lo, _ in seen), max(hi for _, hi in seen))
            out.update({n: union for n in group if n in ranges})
    return out


def skewed(low: float, high: float) -> bool:
    """A signed range whose negative side is less than half its positive side (the output
    of Swish, HSwish, GELU): an asymmetric grid gives it nearly twice the resolution of a
    symmetric one."""
    return low < 0 and -low < 0.5 * high


def fake_quantize_limits(low, high) -> tuple[np.ndarray, np.ndarray]:
    """(input_low, input_high) of a 256-level FakeQuantize covering [low, high]; output
    limits are the same.

    * non-negative: u8 from 0 to high;
    * signed and :func:`skewed` (one range for the tensor): u8 with a zero point, the range
      nudged so that 0 is a grid value (zero padding and ReLU zeros stay exact);
    * otherwise symmetric i8, step a/128 for a = max(|low|, |high|): no zero point.

    Per-channel ``low``/``high`` (arrays) give per-channel limits, u8 if every channel is
    non-negative, else symmetric i8 on every channel.
    """
    low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
    if np.all(low >= 0):
        return np.zeros(high.shape, np.float32), np.maximum(high.astype(np.float32), TINY)
    if low.ndim == 0 and skewed(float(low), float(high)):
        step = (high - low) / 255
        zero = min(max(round(float(-low / step)), 1), 254)
        return np.float32(-zero * step), np.float32((255 - zero) * step)
    a = np.maximum(np.maximum(-low, high).astype(np.float32), TINY)
    return (-a).astype(np.float32), (a * np.float32(127 / 128)).astype(np.float32)
