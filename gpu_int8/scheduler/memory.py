"""Device memory planning: every activation tensor of a plan gets an offset in one
arena, and tensors whose lifetimes do not overlap share bytes.

A tensor lives from the step that writes it (model inputs: before the first
step) to the last step that reads it (model outputs: past the last step),
inclusive at both ends, so a step's outputs never overlap its inputs.  Aliased
tensors (an output that is its input's buffer, e.g. a Reshape) form one
allocation whose lifetime is the union of theirs.  Offsets are assigned
greedily, largest tensor first, at the lowest aligned offset free during its
whole lifetime (the greedy-by-size strategy of TFLite's arena planner).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Interval:
    """Lifetime of an allocation in step indices, both ends inclusive."""

    first: int
    last: int

    def overlaps(self, other: Interval) -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class MemoryPlan:
    """Byte offset and size of every tensor in one arena of ``arena_bytes``."""

    offsets: dict[str, int]
    sizes: dict[str, int]
    lifetimes: dict[str, Interval]
    roots: dict[str, str]  # tensor -> the allocation it belongs to (itself unless aliased)
    arena_bytes: int
    alignment: int
    naive_bytes: int = 0  # what one buffer per tensor would take
    notes: list[str] = field(default_factory=list)

    def check(self) -> None:
        """Raise AssertionError when two allocations with overlapping lifetimes share a byte."""
        allocs = sorted({self.roots[t] for t in self.offsets})
        for i, a in enumerate(allocs):
            sa, oa = self.sizes[a], self.offsets[a]
            assert oa % self.alignment == 0, f"{a} misaligned"
            assert oa + sa <= self.arena_bytes, f"{a} past the arena end"
            for b in allocs[i + 1:]:
                if self.lifetimes[a].overlaps(self.lifetimes[b]):
                    sb, ob = self.sizes[b], self.offsets[b]
                    assert oa + sa <= ob or ob + sb <= oa, f"live tensors {a} and {b} share bytes"


def _root(aliases: dict[str, str], name: str) -> str:
    seen = set()
    while name in aliases and name not in seen:
        seen.add(name)
        name = aliases[name]
    return name


def plan_memory(sizes: dict[str, int], lifetimes: dict[str, tuple[int, int]],
                aliases: dict[str, str] | None = None, alignment: int = 256) -> MemoryPlan:
    """Offsets for tensors of ``sizes`` (bytes) live during ``lifetimes`` (first, last step).

    ``aliases`` maps a tensor to the tensor whose bytes it shares.
    """
    aliases = aliases or {}
    roots = {t: _root(aliases, t) for t in sizes}
    alloc_size: dict[str, int] = {}
    alloc_life: dict[str, Interval] = {}
    for t, size in sizes.items():
        r = roots[t]
        first, last = lifetimes[t]
        alloc_size[r] = max(alloc_size.get(r, 0), int(size))
        old = alloc_life.get(r)
        alloc_life[r] = Interval(first, last) if old is None else Interval(min(old.first, first), max(old.last, last))
    placed: list[tuple[int, int, Interval]] = []  # (offset, size, lifetime)
    offsets: dict[str, int] = {}
    order = sorted(alloc_size, key=lambda r: (-alloc_size[r], alloc_life[r].first, r))
    for r in order:
        size = _aligned(max(alloc_size[r], 1), alignment)
        life = alloc_life[r]
        busy = sorted((o, s) for o, s, lt in placed if lt.overlaps(life))
        offset = 0
        for o, s in busy:
            if offset + size <= o:
                break
            offset = max(offset, _aligned(o + s, alignment))
        offsets[r] = offset
        placed.append((offset, size, life))
    arena = max((o + s for o, s, _ in placed), default=0)
    all_offsets = {t: offsets[roots[t]] for t in sizes}
    all_sizes = {**{t: int(s) for t, s in sizes.items()}, **alloc_size}
    all_life = {**{t: alloc_life[roots[t]] for t in sizes}}
    naive = sum(_aligned(max(int(s), 1), alignment) for t, s in sizes.items() if roots[t] == t)
    plan = MemoryPlan(all_offsets, all_sizes, all_life, roots, arena, alignment, naive)
    return plan


def _aligned(value: int, alignment: int) -> int:
    return -(-value // alignment) * alignment
