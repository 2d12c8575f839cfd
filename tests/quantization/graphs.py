"""Small float graphs for the quantizer's unit tests, built node by node."""

from __future__ import annotations

import numpy as np

from gpu_int8.graph import Graph, infer_shapes


def conv(g: Graph, x: str, cin: int, cout: int, rng, name: str, group: bool = False) -> str:
    """Convolution 3x3 (pad 1) + bias Add; a depthwise GroupConvolution with ``group``."""
    if group:
        w = g.add_const(f"{name}/w", rng.standard_normal((cin, 1, 1, 3, 3)).astype(np.float32)).name
        op = "GroupConvolution"
    else:
        weights = rng.standard_normal((cout, cin, 3, 3)) / np.sqrt(9 * cin)
        w = g.add_const(f"{name}/w", weights.astype(np.float32)).name
        op = "Convolution"
    attrs = {"strides": [1, 1], "pads_begin": [1, 1], "pads_end": [1, 1], "dilations": [1, 1]}
    c = g.add_node(op, [x, w], [f"{name}/conv"], attrs, name=f"{name}/conv").outputs[0]
    b = g.add_const(f"{name}/b", rng.standard_normal((1, cout, 1, 1)).astype(np.float32) * 0.1).name
    return g.add_node("Add", [c, b], [name], name=name).outputs[0]


def hswish_onnx(g: Graph, x: str, name: str, divide_last: bool = True) -> str:
    """HardSwish as ONNX exporters write it: (x * clip(x + 3, 0, 6)) / 6, or x * (clip(x + 3, 0, 6) / 6)."""
    three = g.add_const(f"{name}/3", np.array(3, np.float32)).name
    six = g.add_const(f"{name}/6", np.array(6, np.float32)).name
    shifted = g.add_node("Add", [x, three], [f"{name}/add"], name=f"{name}/add").outputs[0]
    clipped = g.add_node("Clamp", [shifted], [f"{name}/clip"], {"min": 0.0, "max": 6.0}, name=f"{name}/clip").outputs[0]
    if divide_last:
        product = g.add_node("Multiply", [x, clipped], [f"{name}/mul"], name=f"{name}/mul").outputs[0]
        return g.add_node("Divide", [product, six], [name], name=name).outputs[0]
    gate = g.add_node("Divide", [clipped, six], [f"{name}/div"], name=f"{name}/div").outputs[0]
    return g.add_node("Multiply", [x, gate], [name], name=name).outputs[0]


def small_cnn(seed: int = 0) -> Graph:
    """input -> conv -> relu -> [conv -> hswish] + residual -> maxpool -> concat(with a depthwise branch)
    -> conv -> global mean -> reshape -> matmul -> softmax: every kind of quantization point."""
    rng = np.random.default_rng(seed)
    g = Graph("small_cnn")
    g.add_input("x", (1, 3, 16, 16), np.float32)
    a = g.add_node("Relu", [conv(g, "x", 3, 8, rng, "c1")], ["r1"], name="r1").outputs[0]
    h = hswish_onnx(g, conv(g, a, 8, 8, rng, "c2"), "hs")
    s = g.add_node("Add", [h, a], ["sum"], name="sum").outputs[0]
    p = g.add_node("MaxPool", [s], ["pool"], {"strides": [2, 2], "kernel": [2, 2], "pads_begin": [0, 0],
                                             "pads_end": [0, 0]}, name="pool").outputs[0]
    d = g.add_node("Relu", [conv(g, p, 8, 8, rng, "dw", group=True)], ["r2"], name="r2").outputs[0]
    cat = g.add_node("Concat", [p, d], ["cat"], {"axis": 1}, name="cat").outputs[0]
    c3 = g.add_node("Relu", [conv(g, cat, 16, 16, rng, "c3")], ["r3"], name="r3").outputs[0]
    axes = g.add_const("axes", np.array([2, 3], np.int64)).name
    m = g.add_node("ReduceMean", [c3, axes], ["gap"], {"keep_dims": True}, name="gap").outputs[0]
    shape = g.add_const("flat", np.array([1, 16], np.int64)).name
    f = g.add_node("Reshape", [m, shape], ["flat_out"], {"special_zero": False}, name="flat_out").outputs[0]
    w = g.add_const("fc/w", (rng.standard_normal((16, 5)) / 4).astype(np.float32)).name
    logits = g.add_node("MatMul", [f, w], ["logits"], name="logits").outputs[0]
    g.add_node("Softmax", [logits], ["probs"], {"axis": 1}, name="probs")
    g.outputs = ["probs"]
    return infer_shapes(g)


def feeds(n: int, seed: int = 1) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [{"x": rng.standard_normal((1, 3, 16, 16)).astype(np.float32)} for _ in range(n)]
