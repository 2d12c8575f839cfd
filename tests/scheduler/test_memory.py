"""Memory planner invariants: no two live tensors share bytes, aliases share, reuse happens."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_int8.scheduler.memory import plan_memory


def random_problem(seed: int, n: int = 60):
    rng = np.random.default_rng(seed)
    sizes, lifetimes = {}, {}
    for i in range(n):
        first = int(rng.integers(-1, 40))
        sizes[f"t{i}"] = int(rng.integers(0, 1 << 16))
        lifetimes[f"t{i}"] = (first, first + int(rng.integers(0, 8)))
    aliases = {f"t{i}": f"t{i - 1}" for i in range(1, n, 7)}  # chains of views
    return sizes, lifetimes, aliases


def overlaps(a, b):
    return a[0] <= b[1] and b[0] <= a[1]


@pytest.mark.parametrize("seed", range(8))
def test_no_live_tensors_share_bytes(seed):
    sizes, lifetimes, aliases = random_problem(seed)
    plan = plan_memory(sizes, lifetimes, aliases, alignment=128)
    plan.check()
    names = list(sizes)
    for i, a in enumerate(names):
        assert plan.offsets[a] % 128 == 0
        assert plan.offsets[a] + sizes[a] <= plan.arena_bytes
        for b in names[i + 1:]:
            if plan.roots[a] == plan.roots[b]:
                assert plan.offsets[a] == plan.offsets[b]  # an alias is the same bytes
                continue
            # the planner's lifetimes are the alias groups' unions: they contain each tensor's own
            assert plan.lifetimes[a].first <= lifetimes[a][0] and plan.lifetimes[a].last >= lifetimes[a][1]
            if overlaps(lifetimes[a], lifetimes[b]) or plan.lifetimes[a].overlaps(plan.lifetimes[b]):
                ra = (plan.offsets[a], plan.offsets[a] + sizes[a])
                rb = (plan.offsets[b], plan.offsets[b] + sizes[b])
                assert ra[1] <= rb[0] or rb[1] <= ra[0], f"{a} {ra} and {b} {rb} are live together"


def test_reuse_makes_a_chain_cost_two_buffers():
    # a chain of steps t0 -> t1 -> ... : only neighbours are live together
    sizes = {f"t{i}": 1000 for i in range(10)}
    lifetimes = {f"t{i}": (i - 1, i) for i in range(10)}
    plan = plan_memory(sizes, lifetimes, alignment=256)
    plan.check()
    assert plan.arena_bytes == 2 * 1024
    assert plan.naive_bytes == 10 * 1024


def test_alias_extends_the_lifetime():
    sizes = {"x": 512, "view": 512, "late": 512}
    lifetimes = {"x": (0, 1), "view": (1, 5), "late": (3, 4)}
    plan = plan_memory(sizes, lifetimes, {"view": "x"}, alignment=256)
    plan.check()
    assert plan.offsets["view"] == plan.offsets["x"]
    assert plan.offsets["late"] != plan.offsets["x"]  # x's bytes stay busy while its view lives


def test_check_catches_a_collision():
    sizes = {"a": 256, "b": 256}
    plan = plan_memory(sizes, {"a": (0, 2), "b": (1, 3)}, alignment=256)
    plan.offsets["b"] = plan.offsets["a"]
    with pytest.raises(AssertionError):
        plan.check()
