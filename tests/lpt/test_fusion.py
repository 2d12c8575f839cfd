"""The schedule builder: which ops fuse into one int8 step, what stays float, and that the
fused steps compute what the FakeQuantize graph computes."""

import numpy as np

from gpu_int8.lpt import transform
from gpu_int8.reference.float_executor import FloatExecutor
from gpu_int8.reference.int8_executor import Int8Executor
from tests.lpt.dsl import Net

SHAPE = [1, 4, 16, 16]
RNG = np.random.default_rng(7)
CONV = dict(strides=[1, 1], dilations=[1, 1], pads_begin=[1, 1], pads_end=[1, 1], auto_pad="explicit")


def _conv(net, out_channels=4, in_channels=4, k=3, bias=True, **attrs):
    w = RNG.integers(-127, 128, (out_channels, in_channels, k, k)).astype(np.int8)
    scale = RNG.uniform(0.002, 0.01, (out_channels, 1, 1, 1)).astype(np.float32)
    net.op("Convolution", net.weights(w, scale), **(attrs or CONV))
    if bias:
        net.op("Add", RNG.uniform(-0.2, 0.2, (1, out_channels, 1, 1)).astype(np.float32))
    return net


def _stored(net):
    """End with an op that reads the integers, so the last FakeQuantize's output is stored as int8."""
    return net.op("MaxPool", kernel=[1, 1], strides=[1, 1])


def _steps(schedule, kind=None):
    return [s for s in schedule.steps if kind is None or s.kind == kind]


def _feeds(graph, seed=0):
    return {"x": np.random.default_rng(seed).uniform(-2, 2, graph.values["x"].shape).astype(np.float32)}


def _agree(graph, schedule, seed=0, min_equal=0.999, float_step=0.0):
    """Int8 outputs equal the FakeQuantize graph's up to rare rounding ties (float outputs: up to
    ``float_step``, one quantization step of the int8 tensor they dequantize)."""
    feeds = _feeds(graph, seed)
    f = FloatExecutor(graph).run(feeds, keep_all=True)
    q = Int8Executor(schedule).run(feeds, keep_all=True)
    for tensor in schedule.tensors.values():
        if tensor.origin not in f or tensor.name not in q:
            continue
        expected = f[tensor.origin]
        actual = tensor.dequantize(q[tensor.name])
        tol = max(1e-4 * max(1.0, float(np.abs(expected).max())), float_step * 1.001)
        if tensor.is_int8:  # a rounding tie may differ by one step
            tol = float(tensor.scale.max()) * 1.001
        assert np.all(np.abs(actual - expected) <= tol), tensor.name
        equal = np.mean(np.abs(actual - expected) <= 1e-4 * max(1.0, float(np.abs(expected).max())))
        assert equal >= min_equal, (tensor.name, equal)


def test_conv_bias_relu_fakequantize_is_one_step():
    net = Net().input("f32", SHAPE).fake_quantize(-2.56, 2.54, -2.56, 2.54)
    _conv(net).op("Relu").fake_quantize(0, 6.0, 0, 6.0)
    graph = _conv(net, bias=False).build()
    schedule = transform(graph)
    assert [s.kind for s in schedule.steps] == ["quantize", "conv", "conv"]
    first, last = _steps(schedule, "conv")
    assert schedule.precision(first) == "I8" and schedule.tensors[first.outputs[0]].dtype == "u8"
    assert [i[0] for i in first.epilogue] == ["affine", "round"]  # q = sat(rint(acc * m[c] + b[c]))
    assert first.epilogue[-1][1:] == [0, 255]  # Relu folded into the u8 range
    assert [op for op, _ in first.absorbed] == ["Convolution", "Add", "Relu", "FakeQuantize"]
    # the last conv writes the model output: its dequantization is its epilogue, no extra step
    assert schedule.precision(last) == "U8" and schedule.tensors[last.outputs[0]].dtype == "f32"
    assert schedule.summary().line() == "2 of 2 compute layers in INT8; float layers: none"
    _agree(graph, schedule)


def test_residual_add_relu_and_next_fakequantize_fuse_into_the_conv():
    net = Net().input("f32", SHAPE).fake_quantize(0, 2.5137, 0, 2.5137)
    block_in = net.out
    _conv(net).fake_quantize(-3.0173, 3.0173 * 127 / 128, -3.0173, 3.0173 * 127 / 128)
    net.op("Add", block_in).op("Relu").fake_quantize(0, 5.1093, 0, 5.1093)
    graph = net.op("MaxPool", kernel=[2, 2], strides=[2, 2]).build()
    schedule = transform(graph)
    (conv,) = _steps(schedule, "conv")
    assert len(conv.inputs) == 2, "the residual branch is the step's second input"
    ops = [i[0] for i in conv.epilogue]
    # the branch's FakeQuantize clamps without rounding (OpenVINO's fused sum post-op does the same)
    assert ops == ["affine", "act", "affine", "add", "round"], conv.epilogue
    assert conv.epilogue[1][1:] == ["clamp", {"min": -128.0, "max": 127.0}]
    assert [op for op, _ in conv.absorbed] == ["Convolution", "Add", "FakeQuantize", "Add", "Relu", "FakeQuantize"]
    # every value within one step of the FakeQuantize graph; the unrounded branch (about half a step
    # of rounding error less) puts ~10% of them one step apart
    _agree(graph, schedule, min_equal=0.8, float_step=5.1093 / 255)


def test_nonlinear_activation_and_affine_after_it_stay_in_the_epilogue():
    net = Net().input("f32", SHAPE).fake_quantize(-2.56, 2.54, -2.56, 2.54)
    _conv(net).op("HSwish").op("Multiply", np.float32(1.5)).op("Add", np.float32(0.25))
    graph = net.fake_quantize(-4, 4 * 127 / 128, -4, 4 * 127 / 128).build()
    schedule = transform(graph)
    (conv,) = _steps(schedule, "conv")
    # the FakeQuantize output is the model output: the step dequantizes it too and writes f32
    assert [i[0] for i in conv.epilogue] == ["affine", "act", "affine", "round", "affine"]
    assert conv.epilogue[1][1] == "hswish" and schedule.tensors[conv.outputs[0]].dtype == "f32"
    _agree(graph, schedule)


def test_leftover_per_channel_multiply_joins_the_next_requantization():
    net = Net().input("f32", SHAPE).fake_quantize(0, 2.55, 0, 2.55)
    net.op("MaxPool", kernel=[2, 2], strides=[2, 2])
    net.op("Multiply", np.array([1, 2, 3, 4], np.float32).reshape(1, 4, 1, 1))
    graph = _stored(net.fake_quantize(0, 10.2371, 0, 10.2371)).build()
    schedule = transform(graph)
    assert [s.kind for s in schedule.steps] == ["quantize", "move", "requantize", "move", "dequantize"]
    requant = _steps(schedule, "requantize")[0]
    assert requant.axis == 1 and requant.consts[requant.epilogue[0][1]].size == 4
    assert all(schedule.precision(s) != "FP32" for s in schedule.steps)
    _agree(graph, schedule)


def test_softmax_stays_float_behind_a_dequantize_boundary():
    net = Net().input("f32", [1, 10]).fake_quantize(-2.56, 2.54, -2.56, 2.54)
    graph = net.op("Softmax", axis=1).build()
    schedule = transform(graph)
    assert [s.kind for s in schedule.steps] == ["quantize", "dequantize", "float"]
    summary = schedule.summary()
    assert summary.int8 == 0 and [f[0] for f in summary.float_layers] == ["Softmax"]
    assert "Softmax" in summary.float_layers[0][2]
    _agree(graph, schedule)


def test_matmul_with_float_consumer_writes_float():
    net = Net().input("f32", [1, 16]).fake_quantize(0, 2.55, 0, 2.55)
    w = RNG.integers(-127, 128, (10, 16)).astype(np.int8)
    net.op("MatMul", net.weights(w, np.full((10, 1), 0.01, np.float32)), transpose_b=True)
    graph = net.op("Add", RNG.uniform(-1, 1, (1, 10)).astype(np.float32)).op("Softmax", axis=1).build()
    schedule = transform(graph)
    assert [s.kind for s in schedule.steps] == ["quantize", "matmul", "float"]
    matmul = _steps(schedule, "matmul")[0]
    assert schedule.tensors[matmul.outputs[0]].dtype == "f32" and schedule.precision(matmul) == "U8"
    assert schedule.summary().line().startswith("1 of 2 compute layers in INT8; float layers: Softmax(")
    _agree(graph, schedule)


def test_average_pooling_rounds_exactly():
    # same quantization in and out: the result must be round-half-even(sum / count) exactly
    net = Net().input("f32", SHAPE).fake_quantize(0, 2.55, 0, 2.55)
    graph = _stored(net.op("AvgPool", kernel=[2, 2], strides=[2, 2], **{"exclude-pad": True})
                    .fake_quantize(0, 2.55, 0, 2.55)).build()
    schedule = transform(graph)
    assert [s.kind for s in schedule.steps] == ["quantize", "avg_pool", "move", "dequantize"]
    pool = _steps(schedule, "avg_pool")[0]
    x = np.random.default_rng(1).integers(0, 256, SHAPE).astype(np.float32) / 100  # exactly the u8 grid
    q = Int8Executor(schedule).run({"x": x}, keep_all=True)
    sums = np.rint(x * 100).astype(np.int64).reshape(1, 4, 8, 2, 8, 2).sum(axis=(3, 5))
    assert np.mean(sums % 4 == 2) > 0.1, "the test needs ties"
    np.testing.assert_array_equal(q[pool.outputs[0]], np.round(sums / 4))  # NumPy rounds half to even


def test_global_average_pooling_of_int8():
    net = Net().input("f32", SHAPE).fake_quantize(-2.56, 2.54, -2.56, 2.54)
    graph = _stored(net.op("ReduceMean", np.array([2, 3]), keep_dims=True)
                    .fake_quantize(-1, 1 * 127 / 128, -1, 127 / 128)).build()
    schedule = transform(graph)
    assert [s.kind for s in schedule.steps] == ["quantize", "reduce_mean", "move", "dequantize"]
    _agree(graph, schedule)


def test_squeeze_excite_multiply_of_two_int8_tensors():
    net = Net().input("f32", SHAPE).fake_quantize(0, 2.55, 0, 2.55)
    x = net.out
    se = net.op("ReduceMean", np.array([2, 3]), keep_dims=True).op("HSigmoid").fake_quantize(0, 1, 0, 1).out
    graph = _stored(net.op("Multiply", se, first=x).fake_quantize(0, 2.55, 0, 2.55)).build()
    schedule = transform(graph)
    mul = [s for s in schedule.steps if any(i[0] == "mul" for i in s.epilogue)]
    assert len(mul) == 1 and mul[0].kind == "requantize" and len(mul[0].inputs) == 2
    assert all(schedule.precision(s) != "FP32" for s in schedule.steps)
    _agree(graph, schedule)


def test_zero_point_padding_is_fused_into_the_convolution():
    net = Net().input("f32", SHAPE).fake_quantize(-1.0, 1.55, -1.0, 1.55)  # i8 with zero point -28
    graph = _stored(_conv(net).fake_quantize(-2, 2 * 127 / 128, -2, 2 * 127 / 128)).build()
    schedule = transform(graph)
    assert [s.kind for s in schedule.steps] == ["quantize", "conv", "move", "dequantize"]
    conv = _steps(schedule, "conv")[0]
    assert conv.attrs["pad_value"] == -28 and conv.attrs["pads_begin"] == [1, 1]
    assert "comp" in conv.consts and conv.consts["comp"].dtype == np.int32
    _agree(graph, schedule)


def test_op_without_quantized_input_stays_float_and_says_why():
    graph = _conv(Net().input("f32", SHAPE), bias=False).build()
    schedule = transform(graph)
    (step,) = schedule.steps
    assert step.kind == "float" and "not quantized" in step.attrs["reason"]


def test_bias_on_the_accumulator_grid_folds_into_int32():
    # ONNX Runtime's QDQ bias is int32 with scale s_a * s_w[o]: exactly representable in the accumulator
    net = Net().input("f32", SHAPE).fake_quantize(0, 2.55, 0, 2.55)
    s_a = np.float32(2.55 / 255)
    w = RNG.integers(-127, 128, (4, 4, 3, 3)).astype(np.int8)
    s_w = np.array([0.01, 0.02, 0.03, 0.04], np.float32)
    bias_q = np.array([100, -7, 0, 12345], np.int32)
    bias = bias_q.astype(np.float32) * (s_a * s_w)
    net.op("Convolution", net.weights(w, s_w.reshape(4, 1, 1, 1)), **CONV).op("Add", bias.reshape(1, 4, 1, 1))
    graph = _stored(net.fake_quantize(-3.3, 3.3 * 127 / 128, -3.3, 3.3 * 127 / 128)).build()
    conv = _steps(transform(graph), "conv")[0]
    np.testing.assert_array_equal(conv.consts["comp"], bias_q)
    # what is left of b is the output FakeQuantize's offset (0 for this symmetric range, up to rounding)
    assert np.all(np.abs(conv.consts[conv.epilogue[0][2]]) < 1e-4)
    _agree(graph, transform(graph))


def test_bias_off_the_grid_stays_float():
    net = Net().input("f32", SHAPE).fake_quantize(0, 2.55, 0, 2.55)
    graph = _stored(_conv(net).fake_quantize(-3.3, 3.3 * 127 / 128, -3.3, 3.3 * 127 / 128)).build()
    conv = _steps(transform(graph), "conv")[0]
    assert "comp" not in conv.consts and np.any(conv.consts[conv.epilogue[0][2]])


def test_per_channel_quantized_input_of_a_dense_conv_is_requantized_to_one_scale():
    net = Net().input("f32", SHAPE).fake_quantize([0] * 4, [1.1, 2.3, 0.7, 3.1], [0] * 4, [1.1, 2.3, 0.7, 3.1])
    graph = _stored(_conv(net).fake_quantize(-3.3, 3.3 * 127 / 128, -3.3, 3.3 * 127 / 128)).build()
    schedule = transform(graph)
    assert [s.kind for s in schedule.steps] == ["quantize", "conv", "move", "dequantize"]
    assert all(schedule.precision(s) != "FP32" for s in schedule.steps)
    # the per-channel FakeQuantize, then the per-tensor requantization, in the one step that quantizes
    quantize = schedule.steps[0]
    assert quantize.axis == 1 and [i[0] for i in quantize.epilogue] == ["affine", "round", "affine", "round"]
    # after an int8 step, the requantization is a step of its own (a depthwise 1x1: one multiplier per channel)
    net = Net().input("f32", SHAPE).fake_quantize(0, 2.55, 0, 2.55)
    _conv(net).fake_quantize([0] * 4, [1.1, 2.3, 0.7, 3.1], [0] * 4, [1.1, 2.3, 0.7, 3.1]).op("MaxPool", kernel=[1, 1])
    graph = _stored(_conv(net).fake_quantize(-3.3, 3.3 * 127 / 128, -3.3, 3.3 * 127 / 128)).build()
    schedule = transform(graph)
    assert [s.kind for s in schedule.steps] == ["quantize", "conv", "move", "requantize", "conv", "move",
                                                "dequantize"]
    requant = _steps(schedule, "requantize")[0]
    assert requant.axis == 1 and [i[0] for i in requant.epilogue] == ["affine", "round"]
    # the extra rounding costs a little accuracy against the FakeQuantize graph, no more
    feeds = _feeds(graph)
    want = FloatExecutor(graph).run(feeds)[graph.outputs[0]].ravel()
    got = Int8Executor(schedule).run(feeds)[graph.outputs[0]].ravel()
    assert got @ want / np.linalg.norm(got) / np.linalg.norm(want) > 0.995
