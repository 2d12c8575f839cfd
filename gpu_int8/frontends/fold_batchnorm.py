"""Load-time rewrite: fold BatchNormInference into the convolution (or transposed convolution) before it.

``BN(conv(x, w) [+ b])`` becomes ``conv(x, w * k) + (b * k + beta - mean * k)``
with ``k = gamma / sqrt(var + eps)`` per output channel, when the convolution
has float constant weights and its output (and its bias Add's) feeds only the
BatchNormInference.  The BN node turns into the bias Add, so its output name
and its consumers stay as they were.
"""

from __future__ import annotations

import numpy as np

from gpu_int8.graph import Graph, Node

#: convolution type -> where the output channels sit in its weights: "O" whole, "G"/"o" the group and the
#: channel within it, "-" any other dimension before the kernel (spatial) dimensions
WEIGHT_LAYOUT = {"Convolution": "O-", "GroupConvolution": "Go-", "ConvolutionBackpropData": "-O",
                 "GroupConvolutionBackpropData": "G-o"}
CONVOLUTIONS = tuple(WEIGHT_LAYOUT)


def fold_batchnorm(graph: Graph) -> int:
    """Fold every foldable BatchNormInference; returns how many were folded.

    Needs the BN statistics and the weights as constants: run it after
    reading, and again after ``infer_shapes`` when they come from folded
    subgraphs.
    """
    folded = 0
    for bn in [n for n in graph.nodes if n.op_type == "BatchNormInference"]:
        if _fold_one(graph, bn):
            folded += 1
    return folded


def _const(graph: Graph, name: str) -> np.ndarray | None:
    value = graph.values.get(name)
    return None if value is None else value.data


def _sole_user(graph: Graph, name: str, user: Node) -> bool:
    users = [n for n in graph.nodes if name in n.inputs]
    return users == [user] and name not in graph.outputs


def _fold_one(graph: Graph, bn: Node) -> bool:
    params = [_const(graph, n) for n in bn.inputs[1:5]]
    if any(p is None for p in params):
        return False
    producers = graph.producers()
    producer = producers.get(bn.inputs[0])
    bias_add, bias = None, None
    if producer is not None and producer.op_type == "Add":
        for data_side, const_side in ((0, 1), (1, 0)):
            inner = producers.get(producer.inputs[data_side])
            if inner is not None and inner.op_type in CONVOLUTIONS and _const(graph, producer.inputs[const_side]) \
                    is not None:
                bias_add, bias, producer = producer, _const(graph, producer.inputs[const_side]), inner
                break
    if producer is None or producer.op_type not in CONVOLUTIONS:
        return False
    conv = producer
    weights = _const(graph, conv.inputs[1])
    if weights is None or not np.issubdtype(weights.dtype, np.floating):
        return False
    if bias_add is not None:
        if not (_sole_user(graph, conv.outputs[0], bias_add) and _sole_user(graph, bias_add.outputs[0], bn)):
            return False
    elif not _sole_user(graph, conv.outputs[0], bn):
        return False
    gamma, beta, mean, var = (np.asarray(p, np.float64).reshape(-1) for p in params)
    channels = gamma.size
    layout = WEIGHT_LAYOUT[conv.op_type]
    if weights.ndim <= len(layout):
        return False
    scale_shape = [weights.shape[i] if c in "OGo" else 1 for i, c in enumerate(layout)]
    scale_shape += [1] * (weights.ndim - len(layout))
    if int(np.prod(scale_shape)) != channels or any(p.size != channels for p in (beta, mean, var)):
        return False
    spatial = weights.ndim - len(layout)
    bias_shape = [1, channels] + [1] * spatial
    if bias is not None and bias.size not in (1, channels):
        return False
    eps = float(bn.attrs.get("epsilon", 1e-5))
    with np.errstate(all="ignore"):  # a model may hold nonsense; the arithmetic must not warn or fail
        scale = gamma / np.sqrt(var + eps)
        shift = beta - mean * scale
    old_bias = np.zeros(channels) if bias is None else np.broadcast_to(np.asarray(bias, np.float64).reshape(-1),
                                                                          (channels,))
    with np.errstate(all="ignore"):
        new_weights = (weights.astype(np.float64) * scale.reshape(scale_shape)).astype(weights.dtype)
        new_bias = (old_bias * scale + shift).reshape(bias_shape).astype(weights.dtype)

    old_weights = conv.inputs[1]
    conv.inputs[1] = _new_const(graph, f"{conv.name}/folded_weights", new_weights)
    stale = [old_weights, *bn.inputs[1:5]]
    if bias_add is not None:
        stale += [n for n in bias_add.inputs if n != conv.outputs[0]] + [bias_add.outputs[0]]
        graph.nodes.remove(bias_add)
    bn.op_type = "Add"
    bn.inputs = [conv.outputs[0], _new_const(graph, f"{conv.name}/folded_bias", new_bias)]
    bn.attrs = {"auto_broadcast": "numpy"}
    for name in stale:
        if name in graph.values and name not in graph.outputs and name not in graph.inputs \
                and not any(name in n.inputs for n in graph.nodes):
            del graph.values[name]
    return True


def _new_const(graph: Graph, base: str, data: np.ndarray) -> str:
    name = graph.unique_name(base)
    graph.add_const(name, data)
    return name
