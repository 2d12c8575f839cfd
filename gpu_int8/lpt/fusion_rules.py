"""Which graph ops fuse into an epilogue, and as what."""

from __future__ import annotations

import numpy as np

from gpu_int8.graph import Node
from gpu_int8.lpt.lpt_graph import LptGraph
from gpu_int8.lpt.qparams import QParams, channel_vectors

#: ops the accumulator of an int8 step comes from
CONV_OPS = ("Convolution", "GroupConvolution")
DECONV_OPS = ("ConvolutionBackpropData", "GroupConvolutionBackpropData")
POOL_OPS = ("AvgPool", "ReduceMean")
#: ops that run on stored integers unchanged (dequantization moved past them)
MOVE_OPS = ("MaxPool", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Split", "VariadicSplit", "StridedSlice",
            "Slice", "Gather", "Interpolate", "Pad", "DepthToSpace", "SpaceToDepth", "ShuffleChannels", "Broadcast",
            "Tile", "Identity", "Concat", "ReduceMax", "ReduceMin")
AFFINE_OPS = ("Multiply", "Add", "Subtract", "Divide")

#: why an op with no int8 form stays in float
FLOAT_REASONS = {
    "Softmax": "Softmax has no int8 form (exponentials and a normalization over float values)",
    "LogSoftmax": "LogSoftmax has no int8 form",
    "MVN": "MVN normalizes with float statistics (mean, variance)",
    "ScaledDotProductAttention": "ScaledDotProductAttention runs in float (its value input is not quantized)",
    "NormalizeL2": "NormalizeL2 normalizes with a float norm",
}


def activation(g: LptGraph, node: Node) -> tuple[str, dict, QParams | None] | None:
    """(epilogue kind, params, per-channel slope) of an activation node, or None."""
    t, a = node.op_type, node.attrs
    consts = [g.const(n) for n in node.inputs[1:] if n]
    if any(c is None for c in consts):
        return None
    if t == "Relu":
        return "relu", {}, None
    if t == "Clamp":
        return "clamp", {"min": float(a["min"]), "max": float(a["max"])}, None
    if t in ("HSwish", "HSigmoid", "Sigmoid", "Tanh", "Mish"):
        return t.lower(), {}, None
    if t == "SoftPlus":
        return "softplus", {}, None
    if t == "HardSigmoid" and len(consts) == 2 and all(c.size == 1 for c in consts):
        return "hard_sigmoid", {"alpha": float(consts[0].reshape(-1)[0]), "beta": float(consts[1].reshape(-1)[0])}, None
    if t == "Swish" and all(c.size == 1 for c in consts):
        return "swish", {"beta": float(consts[0].reshape(-1)[0]) if consts else 1.0}, None
    if t == "Gelu":
        mode = str(a.get("approximation_mode", "ERF")).upper()
        return ("gelu_erf" if mode == "ERF" else "gelu_tanh"), {}, None
    if t == "Elu":
        return "elu", {"alpha": float(a["alpha"])}, None
    if t == "PRelu" and len(consts) == 1:
        slope = consts[0]
        rank = len(g.shape(node.inputs[0]))
        if slope.ndim == 1 and slope.size > 1 and rank > 1 and slope.size == g.shape(node.inputs[0])[1]:
            params = QParams(slope, np.zeros(1), 1)  # OpenVINO: a 1-D slope runs along axis 1
        else:
            params = QParams.from_consts(slope, None, rank)
        return ("prelu", {}, params) if params is not None else None
    return None


def affine_of(g: LptGraph, node: Node) -> tuple[str, np.ndarray, int | None, np.ndarray] | None:
    """(operand, constant, its channel axis, its values along that axis) of an elementwise op
    with one constant operand that keeps the other operand's shape, or None."""
    if node.op_type not in AFFINE_OPS or len(node.inputs) != 2:
        return None
    a, b = node.inputs
    ca, cb = g.const(a), g.const(b)
    if (ca is None) == (cb is None):
        return None
    if ca is not None and node.op_type in ("Divide",):
        return None
    operand, const = (b, ca) if ca is not None else (a, cb)
    shape = g.shape(operand)
    try:
        if tuple(np.broadcast_shapes(shape, const.shape)) != tuple(shape):
            return None
    except ValueError:
        return None
    found = channel_vectors([const], len(shape))
    if found is None:
        return None
    axis, (vector,) = found
    return operand, const, axis, vector


def affine_terms(node: Node, const_first: bool, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m, b) with op(x, c) == x * m + b."""
    v = np.asarray(vector, np.float64)
    t = node.op_type
    if t == "Multiply":
        return v, np.zeros_like(v)
    if t == "Add":
        return np.ones_like(v), v
    if t == "Subtract":
        return (-np.ones_like(v), v) if const_first else (np.ones_like(v), -v)
    return 1.0 / v, np.zeros_like(v)  # Divide by a constant
