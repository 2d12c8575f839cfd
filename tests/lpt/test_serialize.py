"""A schedule saved as JSON + npz loads back bit for bit; damaged files are clear errors."""

import json

import numpy as np
import pytest

from gpu_int8.errors import ModelError
from gpu_int8.lpt import transform
from gpu_int8.reference.int8_executor import Int8Executor
from gpu_int8.schedule import serialize
from gpu_int8.schedule.serialize import _encode
from tests.lpt.dsl import Net

RNG = np.random.default_rng(5)


def _schedule():
    """Every step kind: quantize, conv with residual, move, avg pool, matmul, dequantize, float."""
    net = Net().input("f32", [1, 4, 8, 8]).fake_quantize(0, 2.5137, 0, 2.5137)
    block_in = net.out
    w = RNG.integers(-127, 128, (4, 4, 3, 3)).astype(np.int8)
    net.op("Convolution", net.weights(w, np.full((4, 1, 1, 1), 0.004, np.float32)), strides=[1, 1],
           dilations=[1, 1], pads_begin=[1, 1], pads_end=[1, 1], auto_pad="explicit")
    net.op("Add", block_in).op("HSwish").fake_quantize(-3.1, 3.1 * 127 / 128, -3.1, 3.1 * 127 / 128)
    net.op("MaxPool", kernel=[2, 2], strides=[2, 2]).op("AvgPool", kernel=[4, 4], strides=[4, 4])
    net.fake_quantize(-1.3, 1.3 * 127 / 128, -1.3, 1.3 * 127 / 128).op("Reshape", np.array([1, 4]),
                                                                          special_zero=False)
    w2 = RNG.integers(-127, 128, (5, 4)).astype(np.int8)
    net.op("MatMul", net.weights(w2, np.full((5, 1), 0.01, np.float32)), transpose_b=True)
    graph = net.op("Softmax", axis=1).build()
    return graph, transform(graph)


def test_round_trip_is_bit_exact(tmp_path):
    graph, schedule = _schedule()
    assert {s.kind for s in schedule.steps} >= {"quantize", "conv", "move", "avg_pool", "matmul", "float"}
    json_path, npz_path = serialize.save(schedule, tmp_path / "model.schedule")
    assert json_path.name == "model.schedule.json" and npz_path.name == "model.schedule.npz"
    loaded = serialize.load(tmp_path / "model.schedule")
    assert loaded.inputs == schedule.inputs and loaded.outputs == schedule.outputs
    for a, b in zip(schedule.steps, loaded.steps):
        assert (a.name, a.kind, a.inputs, a.outputs, a.axis, a.absorbed) == \
            (b.name, b.kind, b.inputs, b.outputs, b.axis, b.absorbed)
        assert _encode(a.attrs) == _encode(b.attrs) and _encode(a.epilogue) == _encode(b.epilogue)
        assert a.consts.keys() == b.consts.keys()
        for key in a.consts:
            assert a.consts[key].dtype == b.consts[key].dtype
            assert a.consts[key].tobytes() == b.consts[key].tobytes()
    for name, t in schedule.tensors.items():
        u = loaded.tensors[name]
        assert (t.shape, t.dtype, t.axis, t.origin) == (u.shape, u.dtype, u.axis, u.origin)
        for x, y in ((t.scale, u.scale), (t.zero_point, u.zero_point)):
            assert (x is None and y is None) or x.tobytes() == y.tobytes()
    feeds = {"x": RNG.uniform(-1, 3, (1, 4, 8, 8)).astype(np.float32)}
    before = Int8Executor(schedule).run(feeds, keep_all=True)
    after = Int8Executor(loaded).run(feeds, keep_all=True)
    assert before.keys() == after.keys()
    for name in before:
        assert before[name].dtype == after[name].dtype and before[name].tobytes() == after[name].tobytes()


def test_damaged_files_are_model_errors(tmp_path):
    _, schedule = _schedule()
    json_path, npz_path = serialize.save(schedule, tmp_path / "s")
    doc = json.loads(json_path.read_text())
    doc["steps"][1]["kind"] = "teleport"
    json_path.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="teleport"):
        serialize.load(tmp_path / "s")
    serialize.save(schedule, tmp_path / "s")
    npz_path.write_bytes(npz_path.read_bytes()[:100])
    with pytest.raises(ModelError, match="cannot read"):
        serialize.load(tmp_path / "s")
    serialize.save(schedule, tmp_path / "s")
    doc = json.loads(json_path.read_text())
    doc["steps"][1]["inputs"][0] = "nowhere"
    json_path.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="nowhere"):
        serialize.load(tmp_path / "s")
