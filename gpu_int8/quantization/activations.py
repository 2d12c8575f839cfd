"""Decomposed activations become single nodes before quantization.

ONNX exporters often write HardSwish as ``x * clip(x + 3, 0, 6) / 6`` (the
division first or last) and Swish as ``x * sigmoid(x)`` (Paddle: ``x * sigmoid(x * 1)``).
Read as written, their final Multiply takes two activations and would look like an
elementwise product to quantize, with a FakeQuantize splitting the activation in
two.  OpenVINO's converter folds the same patterns into HSwish and Swish; this pass
does the same, so the activation fuses into the convolution before it and one
FakeQuantize follows.
"""

from __future__ import annotations

from gpu_int8.graph import Graph, Node
from gpu_int8.quantization.patterns import replace_matches, scalar


def fuse_activations(graph: Graph) -> int:
    """Replace decomposed HSwish / Swish subgraphs in place; returns how many were fused."""
    return replace_matches(graph, _fused)


def _fused(graph: Graph, producer: dict, node: Node) -> Node | None:
    found = _activation_input(graph, producer, node)
    return Node(found[0], node.name, [found[1]], list(node.outputs), {}) if found else None


def _activation_input(graph: Graph, producer: dict, node: Node) -> tuple[str, str] | None:
    """(op type, input) if ``node`` ends a decomposed activation: x * gate(x), or
    (x * clip(x + 3, 0, 6)) / 6 with the scaling last."""
    if node.op_type == "Multiply" and len(node.inputs) == 2:
        for x, gate in (node.inputs, node.inputs[::-1]):
            kind = _gate_kind(graph, producer, gate, x)
            if kind is not None:
                return kind, x
    scaled = _scaled_by(graph, node, 1 / 6) if node.op_type in ("Divide", "Multiply") else None
    product = producer.get(scaled) if scaled else None
    if product is not None and product.op_type == "Multiply" and len(product.inputs) == 2:
        for x, clamp in (product.inputs, product.inputs[::-1]):
            if _is_relu6_of_shift(graph, producer, clamp, x):
                return "HSwish", x
    return None


def _gate_kind(graph: Graph, producer: dict, gate: str, x: str) -> str | None:
    """'HSwish' if ``gate`` computes clip(x + 3, 0, 6) / 6 (or HardSigmoid(x) with alpha 1/6,
    beta 1/2), 'Swish' if it computes sigmoid(x); None otherwise."""
    node = producer.get(gate)
    if node is None:
        return None
    if node.op_type == "Sigmoid":
        inner = producer.get(node.inputs[0])
        # x * sigmoid(x), or x * sigmoid(x * 1) as Paddle exports Swish
        if node.inputs[0] == x or (inner is not None and _scaled_by(graph, inner, 1.0) == x):
            return "Swish"
        return None
    if node.op_type == "HardSigmoid" and node.inputs[0] == x:
        alpha, beta = (scalar(graph, n) for n in node.inputs[1:3])
        return "HSwish" if _near(alpha, 1 / 6) and _near(beta, 0.5) else None
    scaled = _scaled_by(graph, node, 1 / 6)
    return "HSwish" if scaled and _is_relu6_of_shift(graph, producer, scaled, x) else None


def _is_relu6_of_shift(graph: Graph, producer: dict, name: str, x: str) -> bool:
    """Whether ``name`` computes clip(x + 3, 0, 6)."""
    clamp = producer.get(name)
    if clamp is None or clamp.op_type != "Clamp" or not (
            _near(clamp.attrs.get("min"), 0.0) and _near(clamp.attrs.get("max"), 6.0)):
        return False
    shifted = producer.get(clamp.inputs[0])
    if shifted is None or shifted.op_type != "Add":
        return False
    a, b = shifted.inputs
    return (a == x and _near(scalar(graph, b), 3.0)) or (b == x and _near(scalar(graph, a), 3.0))


def _scaled_by(graph: Graph, node: Node, factor: float) -> str | None:
    """The operand of ``node`` if it is a Divide by 1/factor or a Multiply by factor."""
    if len(node.inputs) != 2:
        return None
    if node.op_type == "Divide" and _near(scalar(graph, node.inputs[1]), 1 / factor):
        return node.inputs[0]
    if node.op_type == "Multiply":
        a, b = node.inputs
        if _near(scalar(graph, b), factor):
            return a
        if _near(scalar(graph, a), factor):
            return b
    return None


def _near(got, want: float) -> bool:
    return got is not None and abs(float(got) - want) <= 1e-6 * max(1.0, abs(want))
