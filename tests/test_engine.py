"""Engine: input checking, sync and async requests, thread safety."""

import threading

import numpy as np
import pytest

from gpu_int8.errors import GpuInt8Error
from gpu_int8.graph import Graph, infer_shapes
from gpu_int8.reference.float_executor import FloatExecutor
from gpu_int8.runtime import DeviceInfo, Engine, TensorSpec


@pytest.fixture
def engine():
    g = Graph("relu_add")
    g.add_input("x", (2, 3), np.float32)
    g.add_const("b", np.array([1, -2, 3], np.float32))
    g.add_node("Add", ["x", "b"], ["s"])
    g.add_node("Relu", ["s"], ["y"])
    g.outputs = ["y"]
    infer_shapes(g)
    eng = Engine(FloatExecutor(g), [TensorSpec("x", (2, 3), np.dtype(np.float32))],
                 [TensorSpec("y", (2, 3), np.dtype(np.float32))],
                 DeviceInfo("NumPy reference", "reference", None, "fp32", "test"))
    yield eng
    eng.close()


def expected(x):
    return np.maximum(x + np.array([1, -2, 3], np.float32), 0)


def test_infer_and_cast(engine):
    x = np.arange(6, dtype=np.float64).reshape(2, 3)  # float64 is cast to the input's float32
    out = engine.infer({"x": x})
    np.testing.assert_array_equal(out["y"], expected(x.astype(np.float32)))


@pytest.mark.parametrize("feeds, match", [
    ({}, "input 'x' is missing"),
    ({"x": np.zeros((2, 3)), "z": np.zeros(1)}, "unknown input"),
    ({"x": np.zeros((3, 2))}, r"shape \[3, 2\], expected \[2, 3\]"),
    ({"x": np.array([["a"] * 3] * 2)}, "dtype"),
])
def test_bad_feeds(engine, feeds, match):
    with pytest.raises(GpuInt8Error, match=match):
        engine.infer(feeds)


def test_async_many_in_flight(engine):
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((2, 3)).astype(np.float32) for _ in range(16)]
    futures = [engine.infer_async({"x": x}) for x in xs]
    for x, fut in zip(xs, futures):
        np.testing.assert_array_equal(fut.result(timeout=30)["y"], expected(x))


def test_threads_share_an_engine(engine):
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        for _ in range(20):
            x = rng.standard_normal((2, 3)).astype(np.float32)
            if not np.array_equal(engine.infer({"x": x})["y"], expected(x)):
                errors.append(seed)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
