"""EnginesBySize: a model at the sizes a pipeline hands it, one engine per padded size."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from gpu_int8.errors import GpuInt8Error
from gpu_int8.pipelines import EnginesBySize

CONFIG = {"device": "reference", "precision": "fp32"}


@pytest.fixture(scope="module")
def conv_model(tmp_path_factory) -> str:
    """A 3x3 convolution (pad 1) over a free height and width: its output follows its input."""
    w = numpy_helper.from_array(np.arange(18, dtype=np.float32).reshape(2, 1, 3, 3) / 10, "w")
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], "conv",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, "H", "W"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    path = tmp_path_factory.mktemp("conv") / "conv.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return str(path)


def test_sizes_round_up_to_the_grid_and_share_an_engine(conv_model):
    engines = EnginesBySize(conv_model, CONFIG, grid=(8, 8), fill=0.0)
    assert engines.padded_shape((3, 1, 5, 9)) == (3, 1, 8, 16)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 1, 5, 9)), rng.standard_normal((2, 1, 7, 12))
    out_a, out_b = engines.run(a)[0], engines.run(b)[0]
    assert out_a.shape == out_b.shape == (2, 2, 8, 16)
    assert engines.loads == 1
    engines.run(b[:1])  # another batch size: another engine
    assert engines.loads == 2 and "reference" in str(engines.device)
    # the padded run is the exact run on a zero-padded picture
    exact = EnginesBySize(conv_model, CONFIG).run(np.pad(a, ((0, 0), (0, 0), (0, 3), (0, 7))))[0]
    np.testing.assert_allclose(out_a, exact, rtol=1e-6)


def test_least_recently_used_engines_go(conv_model):
    engines = EnginesBySize(conv_model, CONFIG, keep=1)
    for width in (4, 6, 4):
        engines.run(np.zeros((1, 1, 4, width), np.float32))
    assert engines.loads == 3 and list(engines._engines) == [(1, 1, 4, 4)]


def test_a_picture_of_the_wrong_rank_is_named(conv_model):
    with pytest.raises(GpuInt8Error, match="fewer dimensions than the grid"):
        EnginesBySize(conv_model, CONFIG, grid=(1, 1, 1, 1)).run(np.zeros((1, 4, 4), np.float32))


def test_a_bad_grid_is_named(conv_model):
    with pytest.raises(GpuInt8Error, match=r"grid \[0, 8\] must hold positive ints"):
        EnginesBySize(conv_model, CONFIG, grid=(0, 8))
